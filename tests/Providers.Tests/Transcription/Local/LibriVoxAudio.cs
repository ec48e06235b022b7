using System.Diagnostics;
using MediaActors.Providers.Transcription.Local;

namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>A LibriVox clip of Debian's pocketsphinx-testdata with its reference transcript.</summary>
public sealed record LibriVoxClip(string Id, string WavPath, string Reference, double DurationSeconds);

/// <summary>
/// Real read speech from Debian's pocketsphinx-testdata (five sentences of "Sense and Sensibility", 16 kHz mono s16le already),
/// and files assembled from it with sox in a temporary folder, deleted on dispose.
/// </summary>
public sealed class LibriVoxAudio : IAsyncLifetime
{
    public const string DataFolder = "/usr/share/pocketsphinx/test/data/librivox";

    public const double SilenceSeconds = 5;

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"local-transcriber-tests-{Guid.NewGuid():N}");

    public IReadOnlyList<LibriVoxClip> Clips { get; private set; } = [];

    /// <summary>Clip A (the first), then <see cref="SilenceSeconds"/> of digital silence, then clip B (the fourth).</summary>
    public string ASilenceB { get; private set; } = "";

    public LibriVoxClip A => Clips[0];

    public LibriVoxClip B => Clips[3];

    /// <summary>All five clips back to back (about 25 s).</summary>
    public string AllClips { get; private set; } = "";

    public string AllReferences => string.Join(' ', Clips.Select(c => c.Reference));

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Path.Combine(DataFolder, "transcription")),
            $"{DataFolder} is missing: install the Debian package pocketsphinx-testdata (./test.sh does).");
        Directory.CreateDirectory(Folder);
        Clips = ReadClips();

        var silence = Path.Combine(Folder, "silence.wav");
        await SoxAsync("-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", silence, "trim", "0", SilenceSeconds.ToString("0.0###", System.Globalization.CultureInfo.InvariantCulture));
        ASilenceB = Path.Combine(Folder, "a-silence-b.wav");
        await SoxAsync(A.WavPath, silence, B.WavPath, ASilenceB);
        AllClips = Path.Combine(Folder, "all-clips.wav");
        await SoxAsync([.. Clips.Select(c => c.WavPath), AllClips]);
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }

    public string PathOf(string name) => Path.Combine(Folder, name);

    /// <summary>Runs sox with these arguments (the last is the output file).</summary>
    public static async Task SoxAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("sox") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"sox {string.Join(' ', arguments)}: {await error}");
    }

    // "transcription" lines look like: <s> he was not an ill disposed young man </s> (sense_and_sensibility_01_austen_64kb-0880)
    private static List<LibriVoxClip> ReadClips()
    {
        var clips = new List<LibriVoxClip>();
        foreach (var line in File.ReadAllLines(Path.Combine(DataFolder, "transcription")).Where(l => l.Length > 0))
        {
            var open = line.LastIndexOf('(');
            var id = line[(open + 1)..line.LastIndexOf(')')];
            var reference = line[..open].Replace("<s>", "").Replace("</s>", "").Trim();
            var wav = Path.Combine(DataFolder, id + ".wav");
            using var file = PcmWav.Open(wav);
            clips.Add(new LibriVoxClip(id, wav, reference, file.DurationSeconds));
        }
        Assert.Equal(5, clips.Count);
        return clips;
    }
}
