using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MediaActors.Providers.Transcription;

/// <summary>What the chunking transcribers share about parts: naming a plan, reusing an earlier attempt's parts, reporting in order.</summary>
public static class TranscriptParts
{
    // Bumped when the way a part's segments are made from the same audio changes, so older parts are not reused.
    private const string Version = "1";

    /// <summary>A plan's name: the provider, the model and a digest of the boundaries (in seconds) the audio was cut at.</summary>
    public static string Plan(string provider, string model, IEnumerable<(double Start, double End)> boundaries)
    {
        var text = new StringBuilder(Version);
        foreach (var (start, end) in boundaries)
        {
            text.Append(';').Append(start.ToString("R", CultureInfo.InvariantCulture)).Append('-').Append(end.ToString("R", CultureInfo.InvariantCulture));
        }

        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
        return $"{provider}/{model}/{digest}";
    }

    /// <summary>The earlier attempt's parts usable with <paramref name="plan"/>: its leading run of parts 0, 1, 2..., or none if it was cut otherwise.</summary>
    public static IReadOnlyList<TranscribedPart> Reusable(TranscriptionResume? resume, string plan, int count)
    {
        if (resume is null || resume.Plan != plan)
        {
            return [];
        }

        var parts = new List<TranscribedPart>();
        foreach (var part in resume.Parts.OrderBy(p => p.Index))
        {
            if (part.Index != parts.Count || part.Plan != plan || part.Count != count)
            {
                break;
            }

            parts.Add(part);
        }

        return parts;
    }
}

/// <summary>
/// Passes parts on in index order whatever order they finish in: a finished part waits until every earlier one is out.
/// Thread-safe; the sink is called under its lock, one part at a time.
/// </summary>
public sealed class PartSequencer(IProgress<TranscribedPart>? sink, int first)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, TranscribedPart> _held = [];
    private int _next = first;

    /// <summary>How many parts wait for an earlier one.</summary>
    public int Held
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    public void Finished(TranscribedPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (sink is null)
        {
            return;
        }

        lock (_lock)
        {
            if (part.Index < _next)
            {
                return;
            }

            _held[part.Index] = part;
            while (_held.Remove(_next, out var ready))
            {
                sink.Report(ready);
                _next++;
            }
        }
    }
}
