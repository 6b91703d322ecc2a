using System.Collections.Frozen;
using Microsoft.Net.Http.Headers;

namespace BrummerQueue.Server.Dashboard;

/// <summary>
/// Serves the live dashboard at <c>/</c> (with its files under <c>/dashboard/</c>) and the browser
/// client at <c>/__brummer_ws__/client.js</c>, from files embedded in the assembly: no build step,
/// no CDN. See docs/browser-client.md.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>The path of the browser client module.</summary>
    public const string ClientPath = "/__brummer_ws__/client.js";

    /// <summary>Same-origin only; the page talks to its own server's API and WebSocket, and may not be framed.</summary>
    private const string DashboardPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly Lazy<FrozenDictionary<string, DashboardAsset>> s_assets = new(() =>
        new[] { "index.html", "dashboard.css", "dashboard.js", "chart.js", "client.js" }
            .Select(DashboardAsset.Load)
            .ToFrozenDictionary(asset => asset.FileName, StringComparer.Ordinal));

    /// <summary>Maps the dashboard and the browser client.</summary>
    public static IEndpointRouteBuilder MapBrummerDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext context) => Serve(context, "index.html"));
        endpoints.MapGet("/dashboard/{file}", (HttpContext context, string file) => Serve(context, file));
        endpoints.MapGet(ClientPath, (HttpContext context) => Serve(context, "client.js"));
        return endpoints;
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (file == "client.js" && context.Request.Path != ClientPath)
        {
            return Results.NotFound();
        }

        if (!s_assets.Value.TryGetValue(file, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        if (file == "client.js")
        {
            // A page on another origin imports the module; a module script is fetched with CORS.
            // The file is public and carries no credentials, so any origin may load it; the socket
            // itself still checks the Origin.
            headers.AccessControlAllowOrigin = "*";
        }
        else
        {
            headers.ContentSecurityPolicy = DashboardPolicy;
            headers[HeaderNames.XFrameOptions] = "DENY";
        }

        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
