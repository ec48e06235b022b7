namespace MediaActors.Providers.Transcription;

/// <summary>A word with its timing in seconds from the start of the media.</summary>
public sealed record TranscriptWord(double Start, double End, string Text);

/// <summary>A stretch of speech; Speaker and Words are present when the provider gives them.</summary>
public sealed record TranscriptSegment(double Start, double End, string Text, string? Speaker = null, IReadOnlyList<TranscriptWord>? Words = null);

/// <summary>A whole transcript, with the provider and model that produced it.</summary>
public sealed record Transcript(string Language, string Text, IReadOnlyList<TranscriptSegment> Segments, string Provider, string Model);

/// <summary>What a transcriber gets: the 16 kHz mono s16le WAV extract, and a compressed copy for providers with an upload limit.</summary>
public sealed record TranscriptionInput(string WavPath, string? CompressedPath, double DurationSeconds, string? LanguageHint = null);

/// <summary>Turns audio into a transcript. Throws <see cref="StepException"/> with Transient set for retryable failures.</summary>
public interface ITranscriber
{
    /// <summary>The provider's name as recorded with results ("local-pocketsphinx", "openai").</summary>
    string Name { get; }

    /// <summary>Whether it reads <see cref="TranscriptionInput.CompressedPath"/>: the media step makes the compressed copy only then.</summary>
    bool UsesCompressedAudio { get; }

    Task<Transcript> TranscribeAsync(TranscriptionInput input, IProgress<double>? progress, CancellationToken cancellationToken);
}
