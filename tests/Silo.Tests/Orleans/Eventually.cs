using System.Diagnostics;
using System.Text.Json;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>Polls a condition until it holds or a generous deadline passes (never a fixed sleep as the assertion).</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(150);

    /// <summary>Returns the first probed value that satisfies <paramref name="condition"/>; probe exceptions count as "not yet".</summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        var last = "nothing yet";
        while (true)
        {
            try
            {
                var value = await probe();
                if (condition(value))
                {
                    return value;
                }

                last = Describe(value);
            }
            catch (Exception ex)
            {
                last = $"{ex.GetType().Name}: {ex.Message}";
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Waited {limit.TotalSeconds:0}s for {what}; last seen: {last}");
            }

            await Task.Delay(Interval);
        }
    }

    private static string Describe<T>(T value)
    {
        try
        {
            return JsonSerializer.Serialize(value);
        }
        catch (NotSupportedException)
        {
            return value?.ToString() ?? "null";
        }
    }
}
