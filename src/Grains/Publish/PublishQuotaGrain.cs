using MediaActors.Grains.Projects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Publish;

public sealed class PublishQuotaState
{
    /// <summary>The quota day (in the quota's time zone) the count belongs to.</summary>
    public DateOnly Day { get; set; }

    public int UsedUnits { get; set; }

    /// <summary>Google said quotaExceeded: nothing is spent before this time (the next reset).</summary>
    public DateTimeOffset? PausedUntil { get; set; }
}

/// <summary>
/// The daily YouTube quota of one Google project: every call that costs units asks here first, so jobs stop before Google
/// refuses them; Google's own quotaExceeded (its count may differ from ours) pauses everything until midnight Pacific time.
/// </summary>
public sealed class PublishQuotaGrain(
    [PersistentState("publish-quota", StorageNames.Projects)] IPersistentState<PublishQuotaState> state,
    IOptions<PublishOptions> options,
    TimeProvider time,
    ILogger<PublishQuotaGrain> logger) : Grain, IPublishQuotaGrain
{
    private readonly PublishOptions _options = options.Value;

    public async Task<QuotaDecision> Use(string operation)
    {
        var (day, resetsAt) = Today();
        if (await RollOverAsync(day) is { } paused)
        {
            return new QuotaDecision(false, paused);
        }

        var units = _options.UnitsOf(operation);
        if (state.State.UsedUnits + units > _options.DailyQuota)
        {
            logger.LogInformation("YouTube quota: {Operation} needs {Units} units, {Used} of {Limit} are used today; waiting until {Reset}",
                operation, units, state.State.UsedUnits, _options.DailyQuota, resetsAt);
            return new QuotaDecision(false, resetsAt);
        }

        state.State.UsedUnits += units;
        await state.WriteStateAsync();
        return new QuotaDecision(true, resetsAt);
    }

    public async Task<QuotaDecision> Exhausted()
    {
        var (day, resetsAt) = Today();
        await RollOverAsync(day);
        if (state.State.PausedUntil != resetsAt)
        {
            state.State.PausedUntil = resetsAt;
            state.State.UsedUnits = Math.Max(state.State.UsedUnits, _options.DailyQuota);
            await state.WriteStateAsync();
        }

        return new QuotaDecision(false, resetsAt);
    }

    public async Task<QuotaView> Get()
    {
        var (day, resetsAt) = Today();
        await RollOverAsync(day);
        return new QuotaView(state.State.Day, state.State.UsedUnits, _options.DailyQuota, resetsAt, state.State.PausedUntil);
    }

    /// <summary>Starts a new count on a new quota day; returns the pause's end while a pause holds.</summary>
    private async Task<DateTimeOffset?> RollOverAsync(DateOnly day)
    {
        if (state.State.Day != day)
        {
            state.State.Day = day;
            state.State.UsedUnits = 0;
            state.State.PausedUntil = null;
            await state.WriteStateAsync();
        }

        return state.State.PausedUntil is { } until && until > time.GetUtcNow() ? until : null;
    }

    /// <summary>Today's quota day and the moment it ends (the next midnight in the quota's time zone), as UTC.</summary>
    private (DateOnly Day, DateTimeOffset ResetsAt) Today() => QuotaDay(time.GetUtcNow(), _options.QuotaTimeZone);

    public static (DateOnly Day, DateTimeOffset ResetsAt) QuotaDay(DateTimeOffset now, string timeZone)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var day = DateOnly.FromDateTime(local.DateTime);
        var midnight = day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return (day, new DateTimeOffset(midnight, zone.GetUtcOffset(midnight)).ToUniversalTime());
    }
}
