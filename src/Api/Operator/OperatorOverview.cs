using MediaActors.Api.Stats;
using MediaActors.Grains.Publish;
using MediaActors.Providers.Google;
using Npgsql;

namespace MediaActors.Api.Operator;

/// <summary>The whole cluster at a glance, for operators: <c>GET /api/operator/overview</c>.</summary>
public sealed record OperatorOverview(
    DateTimeOffset GeneratedAt,
    IReadOnlyList<OperatorStep> Steps,
    StatusCounts Projects,
    PublishQueueOverview PublishQueue,
    IReadOnlyList<QuotaOverview> Quota,
    StatusCounts Videos,
    IReadOnlyList<SiloOverview> Silos);

/// <summary>A processing step over every project: completed and failed records, durations of the completed ones, the newest errors.</summary>
public sealed record OperatorStep(string Step, long Completed, long Failed, double? P50Seconds, double? P95Seconds, IReadOnlyList<StepError> LastErrors);

/// <summary>A step that failed for good, with the project's error.</summary>
public sealed record StepError(Guid ProjectId, DateTimeOffset? At, string? Error);

public sealed record StatusCounts(IReadOnlyDictionary<string, long> ByStatus);

/// <summary>Publish jobs by status, the oldest waiting one, and the live (unfinished) jobs, oldest first.</summary>
public sealed record PublishQueueOverview(IReadOnlyDictionary<string, long> ByStatus, DateTimeOffset? OldestPendingAt, IReadOnlyList<LiveJob> Jobs);

public sealed record LiveJob(Guid Id, string UserId, string Status, int Progress, string? Title, DateTimeOffset CreatedAt);

/// <summary>The day's YouTube quota of one OAuth client.</summary>
public sealed record QuotaOverview(string Client, int UsedUnits, int DailyUnits, bool Paused, DateTimeOffset ResetsAt);

public sealed record SiloOverview(string Address, string Status);

/// <summary>
/// Computes the overview when an operator asks (no polling in the background), from the read models and two grain calls
/// (the quota grain and the management grain); answers within <see cref="CacheFor"/> share one computation.
/// </summary>
public sealed class OperatorOverviewSource(NpgsqlDataSource db, IClusterClient cluster, ClusterConnection connection, Microsoft.Extensions.Options.IOptions<GoogleOptions> google,
    TimeProvider time, ILogger<OperatorOverviewSource> logger)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    public const int ErrorsPerStep = 5;
    public const int LiveJobs = 50;

    private readonly Lock _lock = new();
    private (DateTimeOffset At, Task<OperatorOverview> Overview)? _last;

    public Task<OperatorOverview> GetAsync()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_last is { } last && now - last.At < CacheFor && !last.Overview.IsFaulted && !last.Overview.IsCanceled)
            {
                return last.Overview;
            }

            // Not the request's token: the computation is shared by every operator asking meanwhile.
            var overview = ComputeAsync(now);
            _last = (now, overview);
            return overview;
        }
    }

    private async Task<OperatorOverview> ComputeAsync(DateTimeOffset now)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var cancellationToken = timeout.Token;
        var steps = await ReadModelFigures.StepsAsync(db, null, cancellationToken);
        var errors = await LastErrorsAsync(cancellationToken);
        var projects = await ReadModelFigures.CountsByStatusAsync(db, "projects", null, cancellationToken);
        var publish = await ReadModelFigures.CountsByStatusAsync(db, "publish_jobs", null, cancellationToken);
        var videos = await ReadModelFigures.CountsByStatusAsync(db, "videos", null, cancellationToken);
        var (oldestPending, jobs) = await LiveJobsAsync(cancellationToken);
        return new OperatorOverview(
            now,
            [.. steps.Select(s => new OperatorStep(s.Step, s.Completed, s.Failed, s.P50Seconds, s.P95Seconds, errors.GetValueOrDefault(s.Step) ?? []))],
            new StatusCounts(projects),
            new PublishQueueOverview(publish, oldestPending, jobs),
            await QuotaAsync(),
            new StatusCounts(videos),
            await SilosAsync());
    }

    /// <summary>The newest <see cref="ErrorsPerStep"/> failed records of each step, newest first.</summary>
    private async Task<Dictionary<string, List<StepError>>> LastErrorsAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT name, project_id, at, error FROM (
                SELECT s->>'name' AS name, p.id AS project_id, (s->>'finishedAt')::timestamptz AS at, s->>'error' AS error,
                    row_number() OVER (PARTITION BY s->>'name' ORDER BY (s->>'finishedAt')::timestamptz DESC NULLS LAST, p.id) AS n
                FROM projects p CROSS JOIN LATERAL jsonb_array_elements(p.steps) s
                WHERE s->>'status' = 'failed') failed
            WHERE n <= $1
            ORDER BY name, n
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = ErrorsPerStep });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var errors = new Dictionary<string, List<StepError>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (!errors.TryGetValue(name, out var list))
            {
                errors[name] = list = [];
            }

            list.Add(new StepError(reader.GetGuid(1), reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
                reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return errors;
    }

    private async Task<(DateTimeOffset? OldestPending, List<LiveJob> Jobs)> LiveJobsAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT id, user_id, status, progress, metadata->>'title', created_at, (SELECT min(created_at) FROM publish_jobs WHERE status = 'pending')
            FROM publish_jobs WHERE status NOT IN ('completed', 'failed', 'cancelled')
            ORDER BY created_at, id
            LIMIT $1
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LiveJobs });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var jobs = new List<LiveJob>();
        DateTimeOffset? oldestPending = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(new LiveJob(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero)));
            oldestPending ??= reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero);
        }

        return (oldestPending, jobs);
    }

    /// <summary>The configured OAuth client's quota; none without Google, or while no silo answers.</summary>
    private async Task<List<QuotaOverview>> QuotaAsync()
    {
        if (!google.Value.IsConfigured || !connection.IsConnected)
        {
            return [];
        }

        var client = PublishKeys.Quota(google.Value);
        try
        {
            var quota = await cluster.GetGrain<IPublishQuotaGrain>(client).Get();
            return [new QuotaOverview(client, quota.UsedUnits, quota.DailyLimit, quota.PausedUntil is { } until && until > time.GetUtcNow(), quota.ResetsAt)];
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogWarning(ex, "Operator overview: the quota grain did not answer");
            return [];
        }
    }

    /// <summary>The active silos as the cluster's membership sees them; none while no silo answers.</summary>
    private async Task<List<SiloOverview>> SilosAsync()
    {
        if (!connection.IsConnected)
        {
            return [];
        }

        try
        {
            var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            return [.. hosts.OrderBy(h => h.Key.ToParsableString(), StringComparer.Ordinal).Select(h => new SiloOverview(h.Key.ToParsableString(), h.Value.ToString()))];
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogWarning(ex, "Operator overview: the management grain did not answer");
            return [];
        }
    }
}
