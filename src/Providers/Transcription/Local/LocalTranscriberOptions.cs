namespace MediaActors.Providers.Transcription.Local;

/// <summary>Settings of the embedded pocketsphinx transcriber (configuration section "Transcription:Local").</summary>
public sealed class LocalTranscriberOptions
{
    public const string SectionName = "Transcription:Local";

    public const double MinChunkSeconds = 3;

    public const double MaxAllowedChunkSeconds = 300;

    /// <summary>The acoustic model folder (Debian package pocketsphinx-en-us).</summary>
    public string HmmPath { get; set; } = PocketSphinxModel.DebianEnUs.HmmPath;

    /// <summary>The n-gram language model (.lm.bin or ARPA).</summary>
    public string LanguageModelPath { get; set; } = PocketSphinxModel.DebianEnUs.LanguageModelPath;

    /// <summary>The pronunciation dictionary.</summary>
    public string DictionaryPath { get; set; } = PocketSphinxModel.DebianEnUs.DictionaryPath;

    /// <summary>How many chunks are decoded at once, by all transcriptions of this process together (one decoder of ~150 MB each).</summary>
    public int Parallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>The hard maximum length of a chunk; chunks are cut in pauses between a third of this and this.</summary>
    public double MaxChunkSeconds { get; set; } = 30;

    public PocketSphinxModel Model => new(HmmPath, LanguageModelPath, DictionaryPath);

    /// <summary>Null when the settings are usable, else what is wrong.</summary>
    public string? Validate()
    {
        if (Parallelism < 1)
        {
            return $"{SectionName}:Parallelism must be at least 1.";
        }
        if (MaxChunkSeconds is < MinChunkSeconds or > MaxAllowedChunkSeconds || double.IsNaN(MaxChunkSeconds))
        {
            return $"{SectionName}:MaxChunkSeconds must be between {MinChunkSeconds} and {MaxAllowedChunkSeconds}.";
        }
        if (string.IsNullOrWhiteSpace(HmmPath) || string.IsNullOrWhiteSpace(LanguageModelPath) || string.IsNullOrWhiteSpace(DictionaryPath))
        {
            return $"{SectionName}: HmmPath, LanguageModelPath and DictionaryPath must not be empty.";
        }
        return null;
    }
}
