namespace MediaActors.Runtime;

/// <summary>Wakes every waiter at once; a waiter that took the token before working never misses a wake-up.</summary>
public sealed class WakeSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The task that completes at the next <see cref="Set"/>; take it before looking for work.</summary>
    public Task Token => Volatile.Read(ref _current).Task;

    public void Set()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _current, next).TrySetResult();
    }

    /// <summary>Waits for a token taken earlier, at most <paramref name="timeout"/>.</summary>
    public static async Task WaitAsync(Task token, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await token.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
