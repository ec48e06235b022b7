using System.Net;

namespace MediaActors.Providers.Ingestion;

/// <summary>
/// Follows redirects itself (the inner handler has AllowAutoRedirect off) so that every hop is checked: only http/https,
/// no user info, at most maxRedirects hops; the guarded connect callback then checks the hop's addresses.
/// Refusals from the connect callback come out as the <see cref="StepException"/> they are, not wrapped.
/// </summary>
internal sealed class GuardedRedirectHandler(int maxRedirects) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var current = request;
        for (var hop = 0; ; hop++)
        {
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(current, cancellationToken);
            }
            catch (HttpRequestException ex) when (FindStepException(ex) is { } refused)
            {
                throw hop == 0 ? refused : Redirected(current.RequestUri!, refused);
            }

            var location = response.Headers.Location;
            if (!IsRedirect(response.StatusCode) || location is null)
            {
                return response;
            }

            var target = location.IsAbsoluteUri ? location : new Uri(current.RequestUri!, location);
            var status = response.StatusCode;
            response.Dispose();
            if (hop >= maxRedirects)
            {
                throw StepException.Permanent($"The link redirected more than {maxRedirects} times.");
            }

            if (!LinkRules.TryValidate(target, out var problem))
            {
                throw StepException.Permanent($"The link redirected to a link that is not allowed: {problem}");
            }

            current = NextRequest(current, target, status);
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static HttpRequestMessage NextRequest(HttpRequestMessage previous, Uri target, HttpStatusCode status)
    {
        // 301/302/303 turn a POST into a GET, as browsers do; 307/308 keep the method (and the body).
        var keepMethod = status is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect
            || previous.Method == HttpMethod.Get || previous.Method == HttpMethod.Head;
        var next = new HttpRequestMessage(keepMethod ? previous.Method : HttpMethod.Get, target)
        {
            Version = previous.Version,
            VersionPolicy = previous.VersionPolicy,
            Content = keepMethod ? previous.Content : null,
        };
        var sameOrigin = Uri.Compare(previous.RequestUri, target, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
        foreach (var header in previous.Headers)
        {
            // Credentials are for the origin they were given to.
            if (!sameOrigin && (header.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Cookie", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            next.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return next;
    }

    private static StepException Redirected(Uri target, StepException refused) =>
        new($"The link redirected to {LinkRules.Origin(target)}. {refused.Message}", refused.Transient, refused);

    private static StepException? FindStepException(Exception exception)
    {
        for (var current = exception.InnerException; current is not null; current = current.InnerException)
        {
            if (current is StepException step)
            {
                return step;
            }
        }

        return null;
    }
}
