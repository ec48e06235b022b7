using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace MediaActors.ServiceDefaults.DataProtection;

/// <summary>
/// Encrypts secrets (OAuth refresh tokens, webhook secrets, provider credentials) before they are written to the
/// database, and decrypts them after reading. Authenticated encryption (AES-256-CBC + HMACSHA256) with the shared
/// Data Protection key ring in PostgreSQL, so a secret protected on one host is read on any other. The output is
/// URL-safe base64 text; keep it in a <c>text</c> column.
/// </summary>
/// <remarks>
/// Store the protected text only, never the plaintext (and never log either). Keys rotate every 90 days; old keys
/// stay in the key ring, so a secret protected long ago still decrypts. To re-encrypt a secret with the current key,
/// protect its plaintext again when it is next written (for example when a refresh token is renewed).
/// </remarks>
public sealed class SecretProtector
{
    /// <summary>The Data Protection purpose: a secret protected for another purpose (or application) does not decrypt here.</summary>
    public const string Purpose = "MediaActors.Secrets.v1";

    private readonly IDataProtector _protector;

    public SecretProtector(IDataProtectionProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _protector = provider.CreateProtector(Purpose);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> (an empty string is allowed); a different result every call.</summary>
    public string Protect(string plaintext)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        return _protector.Protect(plaintext);
    }

    /// <summary>Decrypts what <see cref="Protect"/> returned.</summary>
    /// <exception cref="SecretUnprotectException">The text was altered or truncated, is not a protected secret, or its key is not in the key ring.</exception>
    public string Unprotect(string protectedText)
    {
        ArgumentNullException.ThrowIfNull(protectedText);
        try
        {
            return _protector.Unprotect(protectedText);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            throw new SecretUnprotectException(ex);
        }
    }
}

/// <summary>A protected secret could not be decrypted. The message never contains the secret or the protected text.</summary>
public sealed class SecretUnprotectException(Exception inner) : CryptographicException(
    "The protected secret could not be decrypted: it was altered or truncated, was not produced by SecretProtector "
    + $"(purpose {SecretProtector.Purpose}), or its key is not in the key ring (table data_protection_keys). Cause: {inner.Message}",
    inner);
