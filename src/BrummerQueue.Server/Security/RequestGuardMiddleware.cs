using System.Security.Cryptography;
using System.Text;
using BrummerQueue.Server.Dashboard;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Settings;
using BrummerQueue.Server.WebSockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace BrummerQueue.Server.Security;

/// <summary>
/// Runs before every endpoint: refuses a foreign <c>Host</c> (DNS rebinding, 403) and a foreign
/// browser <c>Origin</c> (403) on every path, answers CORS for allowed origins, and when
/// <see cref="ServerOptions.Token"/> is set requires it (401) on every path but a few open ones (see
/// <see cref="NeedsToken"/>): <c>/mcp</c> and <c>/metrics</c> take the bearer header, <c>/__brummer_ws__</c> and
/// <c>/api/</c> also <c>?token=</c>; <c>/healthz</c> and the dashboard's files stay open (they hold no queue data;
/// the dashboard page asks for the token and passes it on).
/// A WebSocket handshake without the token is passed on marked with <see cref="TokenRefusedItem"/>, so that the
/// endpoint refuses it with a close code a browser can see. Tokens are compared in constant time and never logged.
/// Requests without an Origin header (curl, SDKs, servers) pass the Origin check.
/// </summary>
internal sealed class RequestGuardMiddleware
{
    /// <summary><see cref="HttpContext.Items"/> key set (to the refusal's detail and whether a token was given) on a WebSocket handshake that lacks the token.</summary>
    public const string TokenRefusedItem = "brummerq.token-refused";

    private readonly RequestDelegate _next;
    private readonly OriginPolicy _policy;
    // SHA-256 of the token's UTF-8 bytes, or null when the server has no token.
    private readonly byte[]? _tokenDigest;
    private readonly ILogger<RequestGuardMiddleware> _logger;

    public RequestGuardMiddleware(RequestDelegate next, IOptions<ServerOptions> options, ILogger<RequestGuardMiddleware> logger)
    {
        _next = next;
        _policy = new OriginPolicy(options.Value);
        _tokenDigest = string.IsNullOrEmpty(options.Value.Token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Token));
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!_policy.IsAllowedHost(request.Host))
        {
            SecurityLog.HostRefused(_logger, request.Host.Value ?? string.Empty, request.Path, AllowHint(nameof(ServerOptions.AllowedHostNames), request.Host.Host));
            return Refuse(context, StatusCodes.Status403Forbidden, "Host not allowed", $"Host '{request.Host}' is not one of this server's names (DNS-rebinding protection); use localhost or an IP address, or add the name to AllowedHostNames");
        }

        var origin = request.Headers.Origin;
        if (!StringValues.IsNullOrEmpty(origin))
        {
            if (!_policy.IsAllowedOrigin(origin.ToString(), request.Host))
            {
                SecurityLog.OriginRefused(_logger, origin.ToString(), request.Path, AllowHint(nameof(ServerOptions.AllowedOrigins), origin.ToString()));
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

        if (_tokenDigest is not null && NeedsToken(request.Path, out var queryAllowed) && !HasToken(request, queryAllowed, out var tokenGiven))
        {
            var detail = TokenRefusal(tokenGiven, queryAllowed);
            if (IsWebSocketPath(request.Path)
                && request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
            {
                context.Items[TokenRefusedItem] = (detail, tokenGiven);
                return _next(context);
            }

            return RefuseToken(context, detail);
        }

        return _next(context);
    }

    /// <summary>Answers 401 with a problem naming how to send the token (code <see cref="ErrorCodes.Unauthorized"/>).</summary>
    public static Task RefuseToken(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(
            detail: detail,
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Token required",
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Unauthorized }).ExecuteAsync(context);
    }

    private static string TokenRefusal(bool tokenGiven, bool queryAllowed)
    {
        var how = queryAllowed ? "'Authorization: Bearer <token>' or '?token=<token>'" : "'Authorization: Bearer <token>'";
        return tokenGiven
            ? $"this server refused the token given: send the token it was started with (--token or BRUMMERQ_TOKEN) as {how}"
            : $"this server needs its token (it was started with --token or BRUMMERQ_TOKEN): send {how}";
    }

    /// <summary>
    /// Every path needs the token except the few that hold no queue data: <c>/healthz</c>, the dashboard page
    /// (<c>/</c> and <c>/dashboard/*</c>) and <c>/__brummer_ws__/client.js</c>. Deny by default, so that a path
    /// spelled another way (<c>/__brummer_ws__/</c>, another case) or an endpoint added later is covered too.
    /// The query (<c>?token=</c>) is taken only on the WebSocket and the API, which browsers call without headers.
    /// </summary>
    private static bool NeedsToken(PathString path, out bool queryAllowed)
    {
        queryAllowed = false;
        if (path.Equals("/", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase)
            || path.Equals(DashboardEndpoints.ClientPath, StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments(HealthEndpoint.Path, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Header only elsewhere (/mcp, /metrics): a token in a URL ends up in proxy logs and browser history,
        // and MCP clients and Prometheus send headers.
        queryAllowed = IsWebSocketPath(path) || path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);
        return true;
    }

    private static bool IsWebSocketPath(PathString path) =>
        path.StartsWithSegments(WebSocketEndpoint.Path, StringComparison.OrdinalIgnoreCase);

    private bool HasToken(HttpRequest request, bool queryAllowed, out bool tokenGiven)
    {
        tokenGiven = false;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            tokenGiven = true;
            if (Matches(authorization.AsSpan(7).Trim()))
            {
                return true;
            }
        }

        if (queryAllowed && request.Query.TryGetValue("token", out var query))
        {
            tokenGiven = true;
            return Matches(query.ToString());
        }

        return false;
    }

    /// <summary>
    /// Compares the candidate's UTF-8 bytes with the token without leaking either by timing: both are hashed with
    /// SHA-256 and the 32-byte digests compared by <see cref="CryptographicOperations.FixedTimeEquals"/>, so there is
    /// no early exit on a length difference or a first differing byte, and the time depends only on the candidate's
    /// own length, which the sender knows anyway.
    /// </summary>
    private bool Matches(ReadOnlySpan<char> candidate)
    {
        Span<byte> bytes = stackalloc byte[256];
        var max = Encoding.UTF8.GetMaxByteCount(candidate.Length);
        var buffer = max <= bytes.Length ? bytes : new byte[max];
        var length = Encoding.UTF8.GetBytes(candidate, buffer);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer[..length], digest);
        return CryptographicOperations.FixedTimeEquals(digest, _tokenDigest);
    }

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);

    /// <summary>
    /// How to allow <paramref name="value"/> in the array setting <paramref name="setting"/>:
    /// <c>--allowed-origin http://app.example:3000 (or BRUMMERQ_ALLOWED_ORIGINS)</c>.
    /// </summary>
    internal static string AllowHint(string setting, string value)
    {
        var descriptor = SettingsCatalog.For(typeof(ServerOptions)).First(s => s.Property.Name == setting);
        return $"{descriptor.Flag} {value} (or {descriptor.EnvironmentVariable})";
    }
}
