using System.Security.Cryptography;
using System.Text;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.WebSockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace BrummerQueue.Server.Security;

/// <summary>
/// Runs before every endpoint: refuses a foreign <c>Host</c> (DNS rebinding, 403) and a foreign
/// browser <c>Origin</c> (403) on every path, answers CORS for allowed origins, and when
/// <see cref="ServerOptions.Token"/> is set requires it (401) on <c>/mcp</c> (bearer header),
/// <c>/__brummer_ws__</c> and <c>/api/</c> (bearer header or <c>?token=</c>); a browser's WebSocket
/// handshake (it has an Origin) without the token is accepted and closed at once with 4401 instead,
/// so that the page can read why. Requests without an Origin header (curl, SDKs, servers) pass the Origin check.
/// </summary>
internal sealed class RequestGuardMiddleware
{
    private readonly RequestDelegate _next;
    private readonly OriginPolicy _policy;
    private readonly byte[]? _token;
    private readonly ILogger<RequestGuardMiddleware> _logger;

    public RequestGuardMiddleware(RequestDelegate next, IOptions<ServerOptions> options, ILogger<RequestGuardMiddleware> logger)
    {
        _next = next;
        _policy = new OriginPolicy(options.Value);
        _token = string.IsNullOrEmpty(options.Value.Token) ? null : Encoding.UTF8.GetBytes(options.Value.Token);
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!_policy.IsAllowedHost(request.Host))
        {
            SecurityLog.HostRefused(_logger, request.Host.Value ?? string.Empty, request.Path);
            return Refuse(context, StatusCodes.Status403Forbidden, "Host not allowed", $"Host '{request.Host}' is not one of this server's names (DNS-rebinding protection); use localhost or an IP address, or add the name to AllowedHostNames");
        }

        var origin = request.Headers.Origin;
        if (!StringValues.IsNullOrEmpty(origin))
        {
            if (!_policy.IsAllowedOrigin(origin.ToString(), request.Host))
            {
                SecurityLog.OriginRefused(_logger, origin.ToString(), request.Path);
                return Refuse(context, StatusCodes.Status403Forbidden, "Origin not allowed", $"pages from '{origin}' may not use this server; allowed are the server itself, localhost, 127.0.0.1 and [::1] on any port, and AllowedOrigins");
            }

            context.Response.Headers.AccessControlAllowOrigin = origin;
            context.Response.Headers.Vary = "Origin";
            if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
            {
                context.Response.Headers.AccessControlAllowMethods = "GET, POST, DELETE, OPTIONS";
                context.Response.Headers.AccessControlAllowHeaders = request.Headers.AccessControlRequestHeaders.Count > 0
                    ? request.Headers.AccessControlRequestHeaders
                    : new StringValues("Content-Type, Authorization");
                context.Response.Headers.AccessControlMaxAge = "600";
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return Task.CompletedTask;
            }

            context.Response.Headers.AccessControlExposeHeaders = "Mcp-Session-Id, Location";
        }

        if (_token is not null && NeedsToken(request.Path, out var queryAllowed) && !HasToken(request, queryAllowed))
        {
            if (!StringValues.IsNullOrEmpty(origin) && context.WebSockets.IsWebSocketRequest)
            {
                // A browser reports a refused handshake to the page only as close 1006, the same as
                // "server down", so a page would retry forever without knowing why. A page (an allowed
                // Origin) is told instead: the handshake completes and closes at once with 4401.
                return WebSocketEndpoint.RefuseAfterUpgradeAsync(context, WebSocketEndpoint.TokenRefusedStatus, HasAnyToken(request)
                    ? "token refused: the token given is not this server's --token"
                    : "token required: connect with ?token=<the server's --token>");
            }

            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Refuse(context, StatusCodes.Status401Unauthorized, "Token required", queryAllowed
                ? "this server needs its token: send 'Authorization: Bearer <token>' or '?token=<token>'"
                : "this server needs its token: send 'Authorization: Bearer <token>'");
        }

        return _next(context);
    }

    private static bool NeedsToken(PathString path, out bool queryAllowed)
    {
        queryAllowed = true;
        if (path.Equals("/__brummer_ws__", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        queryAllowed = false;
        return path.StartsWithSegments("/mcp", StringComparison.OrdinalIgnoreCase);
    }

    private bool HasToken(HttpRequest request, bool queryAllowed)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && Matches(authorization.AsSpan(7).Trim()))
        {
            return true;
        }

        return queryAllowed && request.Query.TryGetValue("token", out var query) && Matches(query.ToString());
    }

    private static bool HasAnyToken(HttpRequest request) =>
        request.Headers.Authorization.Count > 0 || request.Query.ContainsKey("token");

    private bool Matches(ReadOnlySpan<char> candidate)
    {
        Span<byte> bytes = stackalloc byte[256];
        var max = Encoding.UTF8.GetMaxByteCount(candidate.Length);
        var buffer = max <= bytes.Length ? bytes : new byte[max];
        var length = Encoding.UTF8.GetBytes(candidate, buffer);
        return CryptographicOperations.FixedTimeEquals(buffer[..length], _token);
    }

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
}
