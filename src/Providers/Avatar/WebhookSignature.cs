using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MediaActors.Providers.Avatar;

/// <summary>Why a signed request was refused.</summary>
public enum SignatureProblem
{
    None,
    Missing,
    BadTimestamp,
    Stale,
    BadSignature,
}

/// <summary>
/// The signature of MediaActors' webhooks, both ways: header <see cref="TimestampHeader"/> is the Unix time in seconds,
/// header <see cref="SignatureHeader"/> is <c>sha256=</c> and the lowercase hex HMAC-SHA256, keyed with the shared secret
/// (UTF-8), of the timestamp, a dot, and the raw request body. A receiver refuses a timestamp outside its window, so a
/// captured request cannot be replayed later; event ids make a replay within the window harmless.
/// </summary>
public static class WebhookSignature
{
    public const string TimestampHeader = "X-MediaActors-Timestamp";
    public const string SignatureHeader = "X-MediaActors-Signature";

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    public static SignatureProblem Verify(string secret, string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan window)
    {
        if (string.IsNullOrEmpty(timestampHeader) || string.IsNullOrEmpty(signatureHeader))
        {
            return SignatureProblem.Missing;
        }

        if (!long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp) || timestamp > 32_503_680_000)
        {
            return SignatureProblem.BadTimestamp;
        }

        if ((now - DateTimeOffset.FromUnixTimeSeconds(timestamp)).Duration() > window)
        {
            return SignatureProblem.Stale;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body));
        var given = Encoding.ASCII.GetBytes(signatureHeader.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, given) ? SignatureProblem.None : SignatureProblem.BadSignature;
    }
}
