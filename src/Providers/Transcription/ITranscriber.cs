namespace MediaActors.Providers.Transcription;

/// <summary>A word with its timing in seconds from the start of the media.</summary>
public sealed record TranscriptWord(double Start, double End, string Text);

/// <summary>A stretch of speech; Speaker and Words are present when the provider gives them.</summary>
public sealed record TranscriptSegment(double Start, double End, string Text, string? Speaker = null, IReadOnlyList<TranscriptWord>? Words = null);

/// <summary>A whole transcript, with the provider and model that produced it.</summary>
public sealed record Transcript(string Language, string Text, IReadOnlyList<TranscriptSegment> Segments, string Provider, string Model);

/// <summary>
/// One of the pieces a provider cut the audio into (a chunk decoded or sent on its own), final once reported: its place
/// (<see cref="Index"/> of <see cref="Count"/>, in time order), the span of the media it covers, its text and segments
/// at their final times. <see cref="Plan"/> names how the audio was cut (provider, model, boundaries): parts of two
/// different plans do not fit together. The whole transcript's segments are its parts' segments joined in order.
/// </summary>
public sealed record TranscribedPart(string Plan, int Index, int Count, double Start, double End, string Text, string? Language,
    IReadOnlyList<TranscriptSegment> Segments);

/// <summary>The first parts of a plan that an earlier attempt already reported: reused as they are, not transcribed again.</summary>
public sealed record TranscriptionResume(string Plan, IReadOnlyList<TranscribedPart> Parts);

/// <summary>What a transcriber gets: the 16 kHz mono s16le WAV extract, and a compressed copy for providers with an upload limit.</summary>
public sealed record TranscriptionInput(string WavPath, string? CompressedPath, double DurationSeconds, string? LanguageHint = null)
{
    /// <summary>
    /// Told each part as soon as it and every part before it are done (so always in time order, even when parts finish
    /// out of order), on the thread that finished it: it must return quickly. Parts reused from <see cref="Resume"/> are
    /// not told again.
    /// </summary>
    public IProgress<TranscribedPart>? Parts { get; init; }

    /// <summary>Parts of an earlier attempt to reuse when the audio is cut the same way again (same <see cref="TranscribedPart.Plan"/>).</summary>
    public TranscriptionResume? Resume { get; init; }
}

/// <summary>Turns audio into a transcript. Throws <see cref="StepException"/> with Transient set for retryable failures.</summary>
public interface ITranscriber
{
    /// <summary>The provider's name as recorded with results ("local-pocketsphinx", "openai").</summary>
    string Name { get; }

    /// <summary>Whether it reads <see cref="TranscriptionInput.CompressedPath"/>: the media step makes the compressed copy only then.</summary>
    bool UsesCompressedAudio { get; }

    Task<Transcript> TranscribeAsync(TranscriptionInput input, IProgress<double>? progress, CancellationToken cancellationToken);
}
