using System.Text;
using MediaActors.Api.Idempotency;

namespace MediaActors.Api.Tests.Idempotency;

/// <summary>The key rules and the request fingerprint (the end-to-end behaviour is in EndToEnd/IdempotencyTests).</summary>
public sealed class IdempotencyKeyTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("0b6a6f2e-4d4c-4a34-9f3e-2b1c6f0d9a11", true)]
    [InlineData("with space and ~!@#$%^&*()", true)]
    [InlineData("", false)]
    [InlineData("tab\tinside", false)]
    [InlineData("new\nline", false)]
    [InlineData("caf\u00e9", false)]
    [InlineData("del\u007f", false)]
    public void A_key_is_1_to_255_printable_ascii_characters(string key, bool valid) => Assert.Equal(valid, IdempotencyKeys.IsValidKey(key));

    [Fact]
    public void A_key_of_255_characters_is_valid_and_one_of_256_is_not()
    {
        Assert.True(IdempotencyKeys.IsValidKey(new string('k', 255)));
        Assert.False(IdempotencyKeys.IsValidKey(new string('k', 256)));
        Assert.False(IdempotencyKeys.IsValidKey(null));
    }

    [Fact]
    public void The_fingerprint_is_the_same_for_the_same_request_and_differs_by_method_route_and_every_body_byte()
    {
        var body = Encoding.UTF8.GetBytes("""{"url":"https://example.com/talk.mp4"}""");
        var fingerprint = IdempotencyKeys.Fingerprint("POST", "/api/projects/", body);
        Assert.Equal(32, fingerprint.Length);
        Assert.Equal(fingerprint, IdempotencyKeys.Fingerprint("post", "/api/projects/", body.ToArray()));
        Assert.NotEqual(fingerprint, IdempotencyKeys.Fingerprint("PUT", "/api/projects/", body));
        Assert.NotEqual(fingerprint, IdempotencyKeys.Fingerprint("POST", "/api/uploads/", body));
        Assert.NotEqual(fingerprint, IdempotencyKeys.Fingerprint("POST", "/api/projects/", body.Append((byte)' ').ToArray()));
        for (var i = 0; i < body.Length; i++)
        {
            var changed = body.ToArray();
            changed[i] ^= 1;
            Assert.NotEqual(fingerprint, IdempotencyKeys.Fingerprint("POST", "/api/projects/", changed));
        }

        // The route and the body cannot be traded for each other.
        Assert.NotEqual(IdempotencyKeys.Fingerprint("POST", "/a", Encoding.UTF8.GetBytes("\nb")), IdempotencyKeys.Fingerprint("POST", "/a\n", Encoding.UTF8.GetBytes("b")));
    }
}
