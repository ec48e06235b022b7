using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MediaActors.Providers.Transcription.Local;

/// <summary>Where the pocketsphinx model files are: acoustic model folder, language model, pronunciation dictionary.</summary>
public sealed record PocketSphinxModel(string HmmPath, string LanguageModelPath, string DictionaryPath)
{
    /// <summary>The locations of Debian's pocketsphinx-en-us package.</summary>
    public static PocketSphinxModel DebianEnUs { get; } = new(
        "/usr/share/pocketsphinx/model/en-us/en-us",
        "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
        "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");

    /// <summary>Throws a permanent <see cref="StepException"/> naming the Debian package when a model file is missing.</summary>
    public void EnsureExists()
    {
        if (!Directory.Exists(HmmPath) || !File.Exists(Path.Combine(HmmPath, "mdef")))
        {
            throw Missing($"acoustic model folder '{HmmPath}'");
        }
        if (!File.Exists(LanguageModelPath))
        {
            throw Missing($"language model '{LanguageModelPath}'");
        }
        if (!File.Exists(DictionaryPath))
        {
            throw Missing($"dictionary '{DictionaryPath}'");
        }
    }

    private static StepException Missing(string what) => StepException.Permanent(
        $"Local transcription is not available: the pocketsphinx {what} does not exist. " +
        "Install the Debian package pocketsphinx-en-us (apt-get install pocketsphinx-en-us) or set Transcription:Local paths.");
}

/// <summary>A recognised word with its timing in seconds from the start of the audio given to the decoder.</summary>
public readonly record struct RecognizedWord(double Start, double End, string Text);

/// <summary>What the decoder heard in one utterance: its best hypothesis and the timed words behind it.</summary>
public sealed record Utterance(string Hypothesis, IReadOnlyList<RecognizedWord> Words)
{
    public static Utterance Empty { get; } = new("", []);
}

/// <summary>
/// One pocketsphinx decoder (ps_decoder_t) with its model loaded (~0.5 s, 110-150 MB).
/// Not thread-safe: use one per thread; it can be handed from one thread to another between calls.
/// </summary>
public sealed class Decoder : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>pocketsphinx's default frame rate (-frate 100).</summary>
    public const int FramesPerSecond = 100;

    // ps_init and ps_free touch sphinxbase's process-wide log file (err_set_logfile closes the previous FILE*), so they never run concurrently.
    private static readonly Lock _lifecycleLock = new();
    private static bool _loggingSilenced;
    private static bool _mallocTrimAvailable = true;

    private Decoder() : base(ownsHandle: true)
    {
    }

    /// <summary>Fails fast, before any work, when the libraries or model files are missing (permanent <see cref="StepException"/>).</summary>
    public static void EnsureAvailable(PocketSphinxModel model)
    {
        if (!NativeLibrary.TryLoad(PocketSphinxNative.PocketSphinx, typeof(Decoder).Assembly, null, out _)
            || !NativeLibrary.TryLoad(PocketSphinxNative.SphinxBase, typeof(Decoder).Assembly, null, out _))
        {
            throw LibrariesMissing(null);
        }
        model.EnsureExists();
    }

    /// <summary>Loads a decoder. Missing libraries or model files give a permanent <see cref="StepException"/> naming the Debian packages.</summary>
    public static Decoder Create(PocketSphinxModel model)
    {
        model.EnsureExists();
        string[] args =
        [
            // cmd_ln_parse_r skips argv[0], like a program name.
            "mediaactors",
            "-hmm", model.HmmPath,
            "-lm", model.LanguageModelPath,
            "-dict", model.DictionaryPath,
            "-logfn", "/dev/null",
            // The default voice-activity filter drops "silent" frames before decoding, which shifts word timings (5 s of silence became 0.35 s).
            "-remove_silence", "no",
            // Noise estimation carries over from one utterance to the next: without it, a chunk decodes the same whichever decoder gets it.
            "-remove_noise", "no",
        ];
        try
        {
            lock (_lifecycleLock)
            {
                SilenceLogging();
                var config = ParseArguments(args);
                try
                {
                    var decoder = new Decoder();
                    decoder.SetHandle(PocketSphinxNative.ps_init(config));
                    if (decoder.IsInvalid)
                    {
                        throw StepException.Permanent(
                            $"Local transcription is not available: pocketsphinx could not load the model in '{model.HmmPath}'. " +
                            "Reinstall the Debian package pocketsphinx-en-us or check the Transcription:Local paths.");
                    }
                    return decoder;
                }
                finally
                {
                    // ps_init keeps its own reference to the configuration.
                    PocketSphinxNative.cmd_ln_free_r(config);
                }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw LibrariesMissing(e);
        }
    }

    /// <summary>
    /// Decodes one utterance of 16 kHz mono s16 samples and returns its words, timed from the first sample.
    /// Each call is independent of the previous ones (the whole utterance is given at once), so results do not depend on which decoder ran which chunk.
    /// </summary>
    public Utterance Decode(ReadOnlySpan<short> samples)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        if (samples.IsEmpty)
        {
            return Utterance.Empty;
        }

        var added = false;
        DangerousAddRef(ref added);
        try
        {
            var ps = handle;
            Check(PocketSphinxNative.ps_start_utt(ps), "ps_start_utt");
            int processed;
            unsafe
            {
                fixed (short* data = samples)
                {
                    // full_utt = 1: cepstral mean normalisation is computed on this utterance alone, not carried over from earlier chunks.
                    processed = PocketSphinxNative.ps_process_raw(ps, data, (nuint)samples.Length, 0, 1);
                }
            }
            Check(processed, "ps_process_raw");
            Check(PocketSphinxNative.ps_end_utt(ps), "ps_end_utt");
            var hypothesis = Marshal.PtrToStringUTF8(PocketSphinxNative.ps_get_hyp(ps, out _)) ?? "";
            return new Utterance(hypothesis, ReadWords(ps));
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle()
    {
        lock (_lifecycleLock)
        {
            PocketSphinxNative.ps_free(handle);
            ReturnFreedMemory();
        }
        return true;
    }

    /// <summary>Turns a pocketsphinx dictionary entry into a transcript word, or null for fillers (&lt;s&gt;, &lt;sil&gt;, [NOISE], ++UH++...).</summary>
    public static string? CleanWord(string entry)
    {
        if (entry.Length == 0 || entry[0] is '<' or '[' or '+')
        {
            return null;
        }
        // Alternate pronunciations are listed as "the(2)".
        var paren = entry.IndexOf('(');
        var word = paren > 0 ? entry[..paren] : entry;
        return word.Length == 0 ? null : word;
    }

    private static List<RecognizedWord> ReadWords(nint ps)
    {
        var words = new List<RecognizedWord>();
        var seg = PocketSphinxNative.ps_seg_iter(ps);
        // Fed in pieces, the frame counter keeps counting across utterances (whole utterances restart at 0): rebase on the first segment.
        int? origin = null;
        while (seg != 0)
        {
            PocketSphinxNative.ps_seg_frames(seg, out var startFrame, out var endFrame);
            origin ??= startFrame;
            var text = CleanWord(Marshal.PtrToStringUTF8(PocketSphinxNative.ps_seg_word(seg)) ?? "");
            if (text is not null)
            {
                // ps_seg_frames gives the last frame inclusive.
                words.Add(new RecognizedWord(
                    (double)(startFrame - origin.Value) / FramesPerSecond,
                    (double)(endFrame + 1 - origin.Value) / FramesPerSecond,
                    text));
            }
            // ps_seg_next frees the iterator when it returns null.
            seg = PocketSphinxNative.ps_seg_next(seg);
        }
        return words;
    }

    // glibc keeps freed memory in per-thread arenas: decoders loaded on ever new worker threads would grow the process by ~100 MB a job.
    private static void ReturnFreedMemory()
    {
        if (_mallocTrimAvailable)
        {
            try
            {
                PocketSphinxNative.malloc_trim(0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (musl): nothing to trim this way.
                _mallocTrimAvailable = false;
            }
        }
    }

    private static StepException LibrariesMissing(Exception? e) => StepException.Permanent(
        "Local transcription is not available: the pocketsphinx libraries (libpocketsphinx.so.3, libsphinxbase.so.3) could not be loaded. " +
        "Install the Debian packages libpocketsphinx3 and pocketsphinx-en-us (apt-get install libpocketsphinx3 pocketsphinx-en-us).", e);

    private static void Check(int result, string function)
    {
        if (result < 0)
        {
            throw StepException.Permanent($"Local transcription failed: pocketsphinx {function} returned {result}.");
        }
    }

    private static void SilenceLogging()
    {
        if (!_loggingSilenced)
        {
            // No log callback at all: another thread's ps_init may close the FILE* a decoding thread would log to.
            PocketSphinxNative.err_set_callback(0, 0);
            _loggingSilenced = true;
        }
    }

    private static nint ParseArguments(string[] args)
    {
        var argv = new nint[args.Length];
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                argv[i] = Marshal.StringToCoTaskMemUTF8(args[i]);
            }
            var config = PocketSphinxNative.cmd_ln_parse_r(0, PocketSphinxNative.ps_args(), args.Length, argv, strict: 1);
            if (config == 0)
            {
                throw StepException.Permanent("Local transcription is not available: pocketsphinx rejected its arguments " + string.Join(' ', args.Skip(1)));
            }
            return config;
        }
        finally
        {
            // cmd_ln_parse_r copies the values it keeps.
            foreach (var p in argv)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }
}

/// <summary>The C API of Debian's libpocketsphinx3 (pocketsphinx 5prealpha) and sphinxbase.</summary>
internal static unsafe partial class PocketSphinxNative
{
    public const string PocketSphinx = "libpocketsphinx.so.3";
    public const string SphinxBase = "libsphinxbase.so.3";

    [LibraryImport(PocketSphinx)]
    public static partial nint ps_args();

    [LibraryImport(PocketSphinx)]
    public static partial nint ps_init(nint config);

    [LibraryImport(PocketSphinx)]
    public static partial int ps_free(nint ps);

    [LibraryImport(PocketSphinx)]
    public static partial int ps_start_utt(nint ps);

    [LibraryImport(PocketSphinx)]
    public static partial int ps_process_raw(nint ps, short* data, nuint samples, int noSearch, int fullUtterance);

    [LibraryImport(PocketSphinx)]
    public static partial int ps_end_utt(nint ps);

    [LibraryImport(PocketSphinx)]
    public static partial nint ps_get_hyp(nint ps, out int bestScore);

    // 5prealpha signature (Debian's libpocketsphinx3): no out_best_score argument.
    [LibraryImport(PocketSphinx)]
    public static partial nint ps_seg_iter(nint ps);

    [LibraryImport(PocketSphinx)]
    public static partial nint ps_seg_next(nint seg);

    [LibraryImport(PocketSphinx)]
    public static partial nint ps_seg_word(nint seg);

    [LibraryImport(PocketSphinx)]
    public static partial void ps_seg_frames(nint seg, out int startFrame, out int endFrame);

    [LibraryImport(SphinxBase)]
    public static partial nint cmd_ln_parse_r(nint inoutConfig, nint definitions, int argc, [In] nint[] argv, int strict);

    [LibraryImport(SphinxBase)]
    public static partial int cmd_ln_free_r(nint config);

    [LibraryImport(SphinxBase)]
    public static partial void err_set_callback(nint callback, nint userData);

    // glibc's soname: plain "libc.so" may be a linker script.
    [LibraryImport("libc.so.6")]
    public static partial int malloc_trim(nuint pad);
}
