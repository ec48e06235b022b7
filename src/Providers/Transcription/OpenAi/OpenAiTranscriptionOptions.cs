using MediaActors.Providers.OpenAi;

namespace MediaActors.Providers.Transcription.OpenAi;

/// <summary>Settings of the OpenAI-compatible transcriber (section "Transcription:OpenAI").</summary>
public sealed class OpenAiTranscriptionOptions : OpenAiUseOptions
{
    public const string SectionName = "Transcription:OpenAI";

    public override string Model { get; set; } = "whisper-1";

    /// <summary>Largest file the provider accepts (OpenAI: 25 MB); larger audio is split into chunks.</summary>
    public long MaxUploadBytes { get; set; } = 26_214_400;

    /// <summary>Length of each chunk when audio must be split (shortened if a chunk would not fit in MaxUploadBytes).</summary>
    public int ChunkSeconds { get; set; } = 600;

    /// <summary>How many chunks are encoded and transcribed at the same time.</summary>
    public int Parallelism { get; set; } = 3;

    /// <summary>"verbose_json" (segments and words), "diarized_json" (segments with speakers, gpt-4o-transcribe-diarize) or "json" (text only).</summary>
    public string ResponseFormat { get; set; } = "verbose_json";

    /// <summary>Optional prompt passed to the model (names, jargon, spelling).</summary>
    public string? Prompt { get; set; }

    /// <summary>The ffmpeg program used to split large audio (bound from "Media:FfmpegPath").</summary>
    public string FfmpegPath { get; set; } = "ffmpeg";

    /// <summary>The ffprobe program, used only when the input does not say its duration (bound from "Media:FfprobePath").</summary>
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Where chunk files are written (a fresh folder per call, deleted at the end); the system temp folder when empty.</summary>
    public string? TempDirectory { get; set; }
}
