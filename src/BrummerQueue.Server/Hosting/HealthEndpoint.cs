using BrummerQueue.Core;
using BrummerQueue.Redis;
using BrummerQueue.Server.Mcp;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// <c>GET /healthz</c>: <c>{"status":"ok","server":"brummerq","version":"…"}</c>. The <c>server</c>
/// field lets <c>brummerq mcp</c> tell a brummerq on its port (attach) from another program (fail).
/// With the Redis store and its connection down: 503 and <c>{"status":"store_unavailable",…,"reason":"…"}</c>,
/// so a load balancer sends clients to another node until this one has reconnected.
/// </summary>
internal static class HealthEndpoint
{
    public const string Path = "/healthz";

    public static IEndpointConventionBuilder MapHealth(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, static (IMessageQueue queue) => RedisStore.IsDisconnected(queue)
            ? Results.Json(
                new HealthStatus(QueueErrorCodes.StoreUnavailable, BrummerMcpServer.Name, BrummerMcpServer.Version, "the Redis store is not connected; the node is reconnecting"),
                HealthJsonContext.Default.HealthStatus,
                statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(
                new HealthStatus("ok", BrummerMcpServer.Name, BrummerMcpServer.Version),
                HealthJsonContext.Default.HealthStatus));
}
