namespace MediaActors.Grains;

/// <summary>
/// A step failed. <see cref="Transient"/> errors (network, HTTP 5xx/429, timeouts) are retried with backoff;
/// permanent ones (not a media file, no audio track, too large, rejected input) fail the project at once.
/// The message is shown to the user: it must say what went wrong and must never contain a secret.
/// </summary>
public class StepException(string message, bool transient, Exception? inner = null) : Exception(message, inner), MediaActors.Runtime.IWorkError
{
    public bool Transient { get; } = transient;

    bool MediaActors.Runtime.IWorkError.Retryable => Transient;

    public static StepException Permanent(string message, Exception? inner = null) => new(message, false, inner);

    public static StepException Retryable(string message, Exception? inner = null) => new(message, true, inner);
}
