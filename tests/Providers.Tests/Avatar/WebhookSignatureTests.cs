using System.Text;
using MediaActors.Providers.Avatar;

namespace MediaActors.Providers.Tests.Avatar;

public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec-0123456789abcdef";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"videoId\":\"x\"}");
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Fact]
    public void The_signature_is_hmac_sha256_of_timestamp_dot_body_in_lowercase_hex()
    {
        // Computed independently: python3 -c "import hmac,hashlib; print(hmac.new(b'whsec-0123456789abcdef', b'1700000000.{\"videoId\":\"x\"}', hashlib.sha256).hexdigest())"
        Assert.Equal("sha256=f6af49838b011532f7ce9db1bd7cb543b53b93c060299197a65faf420a280aa2", WebhookSignature.Sign(Secret, 1_700_000_000, Body));
    }

    [Fact]
    public void Verification_refuses_a_missing_malformed_stale_or_wrong_signature()
    {
        var signature = WebhookSignature.Sign(Secret, 1_700_000_000, Body);
        var window = TimeSpan.FromMinutes(5);
        Assert.Equal(SignatureProblem.None, WebhookSignature.Verify(Secret, "1700000000", signature, Body, At.AddMinutes(4), window));
        Assert.Equal(SignatureProblem.None, WebhookSignature.Verify(Secret, "1700000000", signature, Body, At.AddMinutes(-4), window));
        Assert.Equal(SignatureProblem.Stale, WebhookSignature.Verify(Secret, "1700000000", signature, Body, At.AddMinutes(6), window));
        Assert.Equal(SignatureProblem.Missing, WebhookSignature.Verify(Secret, null, signature, Body, At, window));
        Assert.Equal(SignatureProblem.Missing, WebhookSignature.Verify(Secret, "1700000000", "", Body, At, window));
        Assert.Equal(SignatureProblem.BadTimestamp, WebhookSignature.Verify(Secret, "-5", signature, Body, At, window));
        Assert.Equal(SignatureProblem.BadSignature, WebhookSignature.Verify("another-secret-0000", "1700000000", signature, Body, At, window));
        Assert.Equal(SignatureProblem.BadSignature, WebhookSignature.Verify(Secret, "1700000000", signature, Encoding.UTF8.GetBytes("{\"videoId\":\"y\"}"), At, window));
        // The timestamp is signed too: moving it breaks the signature.
        Assert.Equal(SignatureProblem.BadSignature, WebhookSignature.Verify(Secret, "1700000001", signature, Body, At, window));
    }
}
