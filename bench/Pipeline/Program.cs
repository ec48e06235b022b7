// The "raw tool" side of the pipeline benchmark: the production LocalTranscriber (pocketsphinx through P/Invoke),
// constructed with default options exactly as LocalTranscriberRegistration builds it, run once on a 16 kHz mono WAV.
// Usage: MediaActors.Pipeline.Bench <audio.wav> <result.json> [transcript.txt]
// Writes a JSON object with the wall time of TranscribeAsync, the audio length, the amount of text and the process's
// peak RSS (VmHWM), so bench/Pipeline/run.sh can put it next to the pipeline's numbers.
using System.Diagnostics;
using System.Text.Json;
using MediaActors.Providers.Transcription;
using MediaActors.Providers.Transcription.Local;
using Microsoft.Extensions.Logging;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MediaActors.Pipeline.Bench <audio.wav> <result.json> [transcript.txt]");
    return 2;
}

var wavPath = Path.GetFullPath(args[0]);
var resultPath = Path.GetFullPath(args[1]);
var processStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
}));

// Default options (Transcription:Local unset): Parallelism = cores, 30 s maximum chunks, Debian's en-us model.
var options = new LocalTranscriberOptions();
var transcriber = new LocalTranscriber(options, loggers.CreateLogger<LocalTranscriber>());
double durationSeconds;
using (var wav = PcmWav.Open(wavPath))
{
    durationSeconds = wav.DurationSeconds;
}

var lastReported = -1;
var progress = new Progress<double>(p =>
{
    var percent = (int)(p * 100);
    if (percent / 10 != lastReported / 10)
    {
        lastReported = percent;
        Console.Error.WriteLine($"[raw-transcriber] {percent}%");
    }
});

var started = Stopwatch.GetTimestamp();
var transcript = await transcriber.TranscribeAsync(new TranscriptionInput(wavPath, null, durationSeconds), progress, CancellationToken.None);
var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;

var words = transcript.Segments.Sum(s => s.Words?.Count ?? s.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
var result = new
{
    wav = wavPath,
    audioSeconds = Math.Round(durationSeconds, 3),
    transcribeSeconds = Math.Round(elapsed, 3),
    // From process start to the end of the call: includes .NET start-up and loading the model (what a CLI user waits for).
    processSeconds = Math.Round((DateTime.UtcNow - processStarted).TotalSeconds, 3),
    realTimeFactor = Math.Round(elapsed / Math.Max(durationSeconds, 1e-3), 4),
    parallelism = options.Parallelism,
    maxChunkSeconds = options.MaxChunkSeconds,
    provider = transcript.Provider,
    model = transcript.Model,
    segments = transcript.Segments.Count,
    words,
    textChars = transcript.Text.Length,
    peakRssBytes = StatusBytes("VmHWM"),
};
await File.WriteAllTextAsync(resultPath, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
if (args.Length > 2)
{
    await File.WriteAllTextAsync(args[2], transcript.Text);
}

Console.Error.WriteLine($"[raw-transcriber] {durationSeconds:0.0} s of audio in {elapsed:0.00} s, {transcript.Segments.Count} segments, {words} words");
return 0;

// A field of /proc/self/status in bytes (the kernel reports kB).
static long StatusBytes(string field)
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith(field + ":", StringComparison.Ordinal))
        {
            var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
    }

    return -1;
}
