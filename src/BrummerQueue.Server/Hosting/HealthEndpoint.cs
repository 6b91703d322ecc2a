using BrummerQueue.Core;
using BrummerQueue.Redis;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// <c>GET /healthz</c>: <c>{"status":"ok","server":"brummerq","version":"…","instance_id":"…"}</c>. The <c>server</c>
/// field lets <c>brummerq mcp</c> tell a brummerq on its port (attach) from another program (fail); <c>instance_id</c>
/// (the same as in the WebSocket <c>connected</c> frame) changes when the server restarts, which the dashboard shows.
/// With the Redis store not connected, or connected but not answering a PING within 2 s: 503 and
/// <c>{"status":"store_unavailable",…,"reason":"the Redis store at 127.0.0.1:6379 …"}</c> (<see cref="RedisStore.HealthProblem"/>),
/// so a load balancer sends clients to another node until this one can use Redis again.
/// </summary>
internal static class HealthEndpoint
{
    public const string Path = "/healthz";

    public static IEndpointConventionBuilder MapHealth(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, static (IMessageQueue queue, ServerIdentity identity) => RedisStore.HealthProblem(queue) is { } problem
            ? Results.Json(
                new HealthStatus(QueueErrorCodes.StoreUnavailable, BrummerMcpServer.Name, BrummerMcpServer.Version, identity.InstanceId, problem),
                HealthJsonContext.Default.HealthStatus,
                statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(
                new HealthStatus("ok", BrummerMcpServer.Name, BrummerMcpServer.Version, identity.InstanceId),
                HealthJsonContext.Default.HealthStatus));
}
