using Microsoft.Extensions.DependencyInjection;
using Orleans.Reminders;
using Orleans.Runtime;

namespace MediaActors.Grains.Tests;

/// <summary>A test's clock for the grains' decisions, with Orleans itself left on real time.</summary>
public static class TestClocks
{
    /// <summary>
    /// Makes <paramref name="clock"/> the silo's <see cref="TimeProvider"/>, which the grains are given (retry due, lease
    /// run out), while every clock Orleans resolves for itself stays the system's. Orleans falls back from each of its
    /// keyed clocks to the unkeyed one, so without these keys a fake clock would also drive grain timers, reminders,
    /// membership and call timeouts: a reminder loaded by a surviving silo after the test moved the clock would then
    /// never fire.
    /// </summary>
    public static IServiceCollection UseGrainClock(this IServiceCollection services, TimeProvider clock)
    {
        services.AddSingleton(clock);
        foreach (var key in OrleansKeys)
        {
            services.AddKeyedSingleton(key, TimeProvider.System);
        }

        return services;
    }

    private static readonly string[] OrleansKeys =
    [
        TimeProviderNames.Grains,
        TimeProviderNames.Messaging,
        TimeProviderNames.SystemTimers,
        TimeProviderNames.Membership,
        TimeProviderNames.ActivationManagement,
        TimeProviderNames.GrainDirectory,
        ReminderTimeProviderNames.Reminders,
    ];
}
