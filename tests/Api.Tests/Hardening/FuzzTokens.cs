using System.Globalization;
using System.Text;
using MediaActors.Api.Tests.EndToEnd;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>
/// JWTs for the fuzz: one valid token for the development user, and malformed ones. Several of the malformed ones carry
/// a valid signature (the test cluster's symmetric key, as if an OIDC issuer had issued them) with a subject that is
/// missing, empty, of the wrong type or not storable as text: the API must refuse or tolerate them, never fail.
/// </summary>
public static class FuzzTokens
{
    private const string Issuer = "mediaactors-tests";
    private const string Audience = "mediaactors";

    /// <summary>The valid token (user "dev", like the development key).</summary>
    public static string Valid() => Signed($"{{\"sub\":\"dev\",{Claims()}}}");

    public static IReadOnlyList<(string Label, string Token)> Malformed()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return
        [
            ("jwt of another user", Signed($"{{\"sub\":\"intruder\",{Claims()}}}")),
            ("jwt without sub", Signed($"{{{Claims()}}}")),
            ("jwt with empty sub", Signed($"{{\"sub\":\"\",{Claims()}}}")),
            ("jwt with NUL in sub", Signed($"{{\"sub\":\"dev\\u0000x\",{Claims()}}}")),
            ("jwt with 5000-char sub", Signed($"{{\"sub\":\"{new string('u', 5000)}\",{Claims()}}}")),
            ("jwt with unicode sub", Signed($"{{\"sub\":\"\\ud83d\\ude00\\u202edev\",{Claims()}}}")),
            ("jwt with numeric sub", Signed($"{{\"sub\":12345678901234567890,{Claims()}}}")),
            ("jwt with array sub", Signed($"{{\"sub\":[\"dev\",\"x\"],{Claims()}}}")),
            ("jwt with object sub", Signed($"{{\"sub\":{{\"id\":\"dev\"}},{Claims()}}}")),
            ("jwt with null sub", Signed($"{{\"sub\":null,{Claims()}}}")),
            ("jwt with path sub", Signed($"{{\"sub\":\"../../dev\",{Claims()}}}")),
            ("expired jwt", Signed($"{{\"sub\":\"dev\",\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"nbf\":{now - 7200},\"exp\":{now - 3600}}}")),
            ("jwt not valid yet", Signed($"{{\"sub\":\"dev\",\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"nbf\":{now + 3600},\"exp\":{now + 7200}}}")),
            ("jwt with exp as text", Signed($"{{\"sub\":\"dev\",\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"exp\":\"tomorrow\"}}")),
            ("jwt with huge exp", Signed($"{{\"sub\":\"dev\",\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"exp\":99999999999999999999999}}")),
            ("jwt for another audience", Signed($"{{\"sub\":\"dev\",\"iss\":\"{Issuer}\",\"aud\":\"other\",\"exp\":{now + 3600}}}")),
            ("jwt of another issuer", Signed($"{{\"sub\":\"dev\",\"iss\":\"evil\",\"aud\":\"{Audience}\",\"exp\":{now + 3600}}}")),
            ("jwt signed with another key", Signed($"{{\"sub\":\"dev\",{Claims()}}}", "another-signing-key-0123456789-abcdefghijklmnop")),
            ("unsigned jwt (alg none)", $"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{Base64Url($"{{\"sub\":\"dev\",{Claims()}}}")}."),
            ("jwt with bad signature", Valid()[..^4] + "AAAA"),
            ("jwt with junk parts", "eyJhbGciOiJIUzI1NiJ9.%%%.!!!"),
            ("jwt that is not base64", "a.b.c"),
            ("jwt of dots", "...."),
            ("jwt header only", Base64Url("{\"alg\":\"HS256\"}")),
            ("jwt with 5 parts", "a.b.c.d.e"),
            ("jwt with a JSON array payload", $"{Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{Base64Url("[1,2,3]")}.sig"),
            ("jwt with deep payload", $"{Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{Base64Url(new string('[', 5000) + new string(']', 5000))}.sig"),
            ("16 KB junk token", new string('t', 16_000)),
        ];
    }

    private static string Claims()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"nbf\":{now - 60},\"exp\":{now + 3600}");
    }

    private static string Signed(string payload, string key = PipelineCluster.JwtSigningKey)
    {
        var credentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256);
        try
        {
            return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(payload, credentials);
        }
        catch (Exception)
        {
            // A payload the library will not sign (it checks some claims): sign it by hand.
            var header = Base64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
            var body = Base64Url(payload);
            using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(key));
            var signature = Base64UrlEncoder.Encode(hmac.ComputeHash(Encoding.ASCII.GetBytes($"{header}.{body}")));
            return $"{header}.{body}.{signature}";
        }
    }

    private static string Base64Url(string text) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(text));
}
