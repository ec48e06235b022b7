using System.Net;
using System.Security.Claims;

namespace MediaActors.Api.Operator;

/// <summary>Who may use the Orleans Dashboard on an API host: loopback requests, and operators with a dashboard session cookie.</summary>
public static class DashboardAccess
{
    /// <summary>The cookie scheme of dashboard sessions.</summary>
    public const string Scheme = "OperatorDashboard";
    public const string OperatorRole = "operator";

    /// <summary>
    /// True for a request from this machine, or with a dashboard session (<paramref name="session"/>: the principal the
    /// session cookie authenticated, null without one) of an operator.
    /// </summary>
    public static bool Allows(IPAddress? remote, ClaimsPrincipal? session)
    {
        if (remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
        {
            return true;
        }

        return session?.Identity is { IsAuthenticated: true, AuthenticationType: Scheme }
            && session.IsInRole(OperatorRole)
            && !string.IsNullOrWhiteSpace(session.FindFirstValue(ClaimTypes.NameIdentifier));
    }

    public static IResult Refusal() => Results.Problem(
        title: "Forbidden",
        detail: "The Orleans Dashboard answers requests from this machine, and operators with a dashboard session: from this "
            + "browser, call POST /api/operator/dashboard-session with an operator's bearer token or API key (it sets a cookie for "
            + "/dashboard, valid one hour), then open /dashboard/.",
        statusCode: StatusCodes.Status403Forbidden);
}
