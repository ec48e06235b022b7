using MediaActors.Grains.Projects;
using MediaActors.Providers;

namespace MediaActors.Grains.Tests.Projects;

/// <summary>The media step's parallel work: all of it finishes or stops, and a failure is reported as itself.</summary>
public sealed class TogetherTests
{
    [Fact]
    public async Task Actions_run_at_once_and_all_finish()
    {
        var running = 0;
        var most = 0;
        var gate = new TaskCompletionSource();
        async Task Work(CancellationToken token)
        {
            most = Math.Max(most, Interlocked.Increment(ref running));
            if (running == 3)
            {
                gate.SetResult();
            }

            await gate.Task.WaitAsync(TimeSpan.FromSeconds(10), token);
            Interlocked.Decrement(ref running);
        }

        await MediaStep.TogetherAsync(CancellationToken.None, Work, Work, Work);
        Assert.Equal(3, most);
        Assert.Equal(0, running);
    }

    [Fact]
    public async Task The_first_failure_stops_the_others_and_is_what_is_thrown()
    {
        var stopped = new List<string>();
        async Task Slow(string name, CancellationToken token)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), token);
            }
            finally
            {
                lock (stopped)
                {
                    stopped.Add(name);
                }
            }
        }

        var error = await Assert.ThrowsAsync<StepException>(() => MediaStep.TogetherAsync(CancellationToken.None,
            token => Slow("wav", token),
            async _ =>
            {
                await Task.Delay(50);
                throw StepException.Permanent("ffmpeg could not process the media (broken).");
            },
            token => Slow("thumbnail", token)).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("broken", error.Message);
        Assert.Equal(["thumbnail", "wav"], stopped.Order());
    }

    [Fact]
    public async Task The_callers_cancellation_is_a_cancellation()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MediaStep.TogetherAsync(cancel.Token,
            token => Task.Delay(TimeSpan.FromSeconds(30), token),
            token => Task.Delay(TimeSpan.FromSeconds(30), token)));
    }
}
