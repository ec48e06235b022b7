using System.Security.Claims;
using MediaActors.Api.Auth;
using MediaActors.Api.Videos;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Orleans.Dashboard;

namespace MediaActors.Api.Operator;

/// <summary>
/// The operator's view: <c>GET /api/operator/overview</c> (every user's figures), and the Orleans Dashboard at
/// <c>/dashboard</c> on the API host for loopback requests and for operators who opened a dashboard session with
/// <c>POST /api/operator/dashboard-session</c> (a cookie for <c>/dashboard</c> only, valid one hour).
/// </summary>
public static class OperatorEndpoints
{
    public const string DashboardPath = "/dashboard";
    public static readonly TimeSpan DashboardSessionLifetime = TimeSpan.FromHours(1);

    /// <summary>The overview's source and the cookie scheme of dashboard sessions (never a default scheme: API calls stay bearer-only).</summary>
    public static IServiceCollection AddOperator(this IServiceCollection services)
    {
        services.AddSingleton<OperatorOverviewSource>();
        services.AddAuthentication().AddCookie(DashboardAccess.Scheme, o =>
        {
            o.Cookie.Name = "MediaActors.Dashboard";
            o.Cookie.Path = DashboardPath;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = DashboardSessionLifetime;
            o.SlidingExpiration = false;
            // No login page to send anyone to: the dashboard's filter answers 403 itself.
            o.Events.OnRedirectToLogin = context => Forbid(context.Response);
            o.Events.OnRedirectToAccessDenied = context => Forbid(context.Response);
        });
        return services;
    }

    public static void MapOperator(this WebApplication app)
    {
        var group = app.MapGroup("/api/operator").RequireAuthorization(CatalogEndpoints.OperatorPolicy).WithTags("Operator");
        group.MapGet("/overview", async (OperatorOverviewSource overview) => Results.Ok(await overview.GetAsync()));
        group.MapPost("/dashboard-session", OpenDashboardSessionAsync);

        // The silos serve the same dashboard (loopback only); here it reads the cluster through this host's Orleans client.
        app.MapOrleansDashboard(routePrefix: DashboardPath).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var session = await http.AuthenticateAsync(DashboardAccess.Scheme);
            return DashboardAccess.Allows(http.Connection.RemoteIpAddress, session.Succeeded ? session.Principal : null)
                ? await next(context)
                : DashboardAccess.Refusal();
        });
    }

    private static async Task<IResult> OpenDashboardSessionAsync(HttpContext http, TimeProvider time)
    {
        var expiresAt = time.GetUtcNow() + DashboardSessionLifetime;
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, http.User.UserId()), new Claim(ClaimTypes.Role, DashboardAccess.OperatorRole)],
            DashboardAccess.Scheme, ClaimTypes.NameIdentifier, ClaimTypes.Role);
        await http.SignInAsync(DashboardAccess.Scheme, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = true, ExpiresUtc = expiresAt, AllowRefresh = false });
        return Results.Ok(new { dashboardUrl = $"{DashboardPath}/", expiresAt });
    }

    private static Task Forbid(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
