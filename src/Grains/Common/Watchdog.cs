using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace MediaActors.Grains;

/// <summary>
/// A grain's watchdog: a durable reminder that reaches the grain on any silo even after its own silo died, and, while the
/// activation lives, a grain timer that checks more often than a reminder can. The grain says when a timer is worth
/// having, whether the watchdog is still needed, and what a check does.
/// </summary>
internal sealed class Watchdog(Grain grain, TimeSpan reminderPeriod, TimeSpan timerPeriod, Func<bool> needed, Func<bool> timerWanted, Func<Task> check)
{
    public const string ReminderName = "watchdog";

    private bool _registered;
    private IGrainTimer? _timer;

    /// <summary>The reminder fired, so it is registered.</summary>
    public void Fired() => _registered = true;

    /// <summary>Arms the timer and registers the reminder (once per activation).</summary>
    public async Task StartAsync()
    {
        ArmTimer();
        if (!_registered)
        {
            await grain.RegisterOrUpdateReminder(ReminderName, reminderPeriod, reminderPeriod);
            _registered = true;
        }
    }

    /// <summary>Stops the timer and unregisters the reminder if this activation registered it or <paramref name="ended"/> (it may be left from an earlier one).</summary>
    public async Task StopAsync(bool ended)
    {
        _timer?.Dispose();
        _timer = null;
        if (_registered || ended)
        {
            if (await grain.GetReminder(ReminderName) is { } reminder)
            {
                await grain.UnregisterReminder(reminder);
            }

            _registered = false;
        }
    }

    /// <summary>Starts the timer unless it runs or is not wanted now; it stops itself once the watchdog is no longer needed.</summary>
    public void ArmTimer()
    {
        if (_timer is not null || !timerWanted())
        {
            return;
        }

        _timer = grain.RegisterGrainTimer(async () =>
        {
            if (!needed())
            {
                _timer?.Dispose();
                _timer = null;
                return;
            }

            await check();
        }, new GrainTimerCreationOptions(timerPeriod, timerPeriod) { KeepAlive = true });
    }
}

/// <summary>Grain state writes that leave no unsaved change behind.</summary>
internal static class StateWrites
{
    /// <summary>Writes the state; a failed write deactivates the grain, so its next call starts from what is stored, not from this activation's unsaved changes.</summary>
    public static async Task WriteOrDeactivateAsync<T>(this Grain grain, IPersistentState<T> state)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            grain.DeactivateOnIdle();
            throw;
        }
    }
}

/// <summary>Starting an attempt on the silo's worker, for the grains that own attempts.</summary>
internal static class AttemptDispatch
{
    /// <summary>
    /// Starts the attempt. If this silo refuses it (it is stopping), the attempt is taken back (<paramref name="takeBack"/>:
    /// not counted, it never ran), that is written, and this activation ends, so that the watchdog's next tick starts it
    /// in an activation on a live silo. If the write fails too, the stored attempt runs out its lease and starts again.
    /// </summary>
    public static async Task StartOrTakeBackAsync<T>(this Grain grain, IPersistentState<T> state, Func<Task> start, Action takeBack,
        ILogger logger, string what)
    {
        try
        {
            await start();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "{What} could not be started on this silo; it starts from the next activation", what);
            takeBack();
            try
            {
                await state.WriteStateAsync();
            }
            catch (Exception writeError)
            {
                logger.LogWarning(writeError, "{What}: taking the attempt back was not written", what);
            }

            grain.DeactivateOnIdle();
        }
    }
}
