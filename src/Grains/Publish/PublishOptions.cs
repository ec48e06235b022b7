namespace MediaActors.Grains.Publish;

/// <summary>The publish queue's settings (section "Publish").</summary>
public sealed class PublishOptions
{
    /// <summary>Network-bound attempts (publish jobs, avatar video dispatches and downloads) one silo runs at once, apart from the project steps' slots.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>Tries of a job whose failures are transient (429, 5xx, other 403, no answer) before it fails.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Backoff before the first retry; doubled each time.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The YouTube Data API's daily quota of the Google project, in units (Google's default: 10,000).</summary>
    public int DailyQuota { get; set; } = 10_000;

    /// <summary>Units each call costs (Google's published costs: videos.insert 1,600 (an upload), videos.list 1).</summary>
    public Dictionary<string, int> QuotaUnits { get; set; } = new(StringComparer.Ordinal)
    {
        ["videos.insert"] = 1600,
        ["videos.list"] = 1,
    };

    /// <summary>The time zone whose midnight resets the quota (Google's: Pacific time).</summary>
    public string QuotaTimeZone { get; set; } = "America/Los_Angeles";

    /// <summary>Bytes read from blob storage per request while uploading (one buffer per running job).</summary>
    public int ReadBufferBytes { get; set; } = 4 * 1024 * 1024;

    public int UnitsOf(string operation) => QuotaUnits.TryGetValue(operation, out var units) ? units : 1;
}
