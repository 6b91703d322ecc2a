using BrummerQueue.Server.Mcp;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// <c>GET /healthz</c>: <c>{"status":"ok","server":"brummerq","version":"…"}</c>. The <c>server</c>
/// field lets <c>brummerq mcp</c> tell a brummerq on its port (attach) from another program (fail).
/// </summary>
internal static class HealthEndpoint
{
    public const string Path = "/healthz";

    public static IEndpointConventionBuilder MapHealth(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, static () => Results.Json(
            new HealthStatus("ok", BrummerMcpServer.Name, BrummerMcpServer.Version),
            HealthJsonContext.Default.HealthStatus));
}
