using MediaActors.Providers.Transcription;

namespace MediaActors.Providers.Tests.Transcription;

/// <summary>Keeps the transcript parts a transcriber reports, in the order they came (reports may come from several threads).</summary>
public sealed class PartLog(List<TranscribedPart> parts) : IProgress<TranscribedPart>
{
    public void Report(TranscribedPart value)
    {
        lock (parts)
        {
            parts.Add(value);
        }
    }
}
