namespace MediaActors.Providers;

/// <summary>
/// A step failed. <see cref="Transient"/> errors (network, HTTP 5xx/429, timeouts) are retried with backoff;
/// permanent ones (not a media file, no audio track, too large, rejected input) fail the project at once.
/// The message is shown to the user: it must say what went wrong and must never contain a secret.
/// </summary>
public class StepException : Exception
{
    /// <summary>The key under which <see cref="Exception.Data"/> carries the verdict, for hosts that do not know this type.</summary>
    public const string RetryableKey = "retryable";

    public StepException(string message, bool transient, Exception? inner = null) : base(message, inner)
    {
        Transient = transient;
        Data[RetryableKey] = transient;
    }

    public bool Transient { get; }

    public static StepException Permanent(string message, Exception? inner = null) => new(message, false, inner);

    public static StepException Retryable(string message, Exception? inner = null) => new(message, true, inner);
}
