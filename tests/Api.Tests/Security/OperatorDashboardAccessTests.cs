using System.Net;
using System.Security.Claims;
using MediaActors.Api.Operator;

namespace MediaActors.Api.Tests.Security;

/// <summary>The API host's Orleans Dashboard: loopback requests, or an operator's dashboard session (the cookie's principal); nobody else.</summary>
public sealed class OperatorDashboardAccessTests
{
    private static ClaimsPrincipal Session(string? userId = "ops", string? role = DashboardAccess.OperatorRole, string? scheme = DashboardAccess.Scheme)
    {
        var claims = new List<Claim>();
        if (userId is not null)
        {
            claims.Add(new Claim(ClaimTypes.NameIdentifier, userId));
        }

        if (role is not null)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.NameIdentifier, ClaimTypes.Role));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Loopback_requests_are_allowed_without_a_session(string remote) =>
        Assert.True(DashboardAccess.Allows(IPAddress.Parse(remote), null));

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("10.0.0.5")]
    [InlineData("192.168.1.20")]
    [InlineData("::ffff:203.0.113.7")]
    [InlineData("2001:db8::1")]
    [InlineData(null)]
    public void Other_addresses_without_a_session_are_refused(string? remote) =>
        Assert.False(DashboardAccess.Allows(remote is null ? null : IPAddress.Parse(remote), null));

    [Fact]
    public void An_operators_dashboard_session_is_allowed_from_any_address() =>
        Assert.True(DashboardAccess.Allows(IPAddress.Parse("203.0.113.7"), Session()));

    [Fact]
    public void Sessions_without_the_operator_role_a_user_or_from_another_scheme_are_refused()
    {
        var remote = IPAddress.Parse("203.0.113.7");
        Assert.False(DashboardAccess.Allows(remote, Session(role: null)));
        Assert.False(DashboardAccess.Allows(remote, Session(role: "user")));
        Assert.False(DashboardAccess.Allows(remote, Session(userId: null)));
        Assert.False(DashboardAccess.Allows(remote, Session(userId: " ")));
        // A bearer token's principal (even an operator's) is not a dashboard session.
        Assert.False(DashboardAccess.Allows(remote, Session(scheme: "Bearer")));
        Assert.False(DashboardAccess.Allows(remote, Session(scheme: null)));
        Assert.False(DashboardAccess.Allows(remote, new ClaimsPrincipal(new ClaimsIdentity())));
    }
}
