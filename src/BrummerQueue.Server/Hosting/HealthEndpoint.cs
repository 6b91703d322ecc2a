using BrummerQueue.Core;
using BrummerQueue.Redis;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.WebSockets;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// <c>GET /healthz</c>: <c>{"status":"ok","server":"brummerq","version":"…","instance_id":"…","store":"memory"}</c>
/// (<c>store</c>: <c>memory</c> or <c>redis</c>, so an attaching <c>brummerq mcp --store redis</c> sees a host that keeps its queue in memory). The <c>server</c>
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
        endpoints.MapGet(Path, static (IMessageQueue queue, ServerIdentity identity, IOptions<ServerOptions> server) => RedisStore.HealthProblem(queue) is { } problem
            ? Results.Json(
                new HealthStatus(QueueErrorCodes.StoreUnavailable, BrummerMcpServer.Name, BrummerMcpServer.Version, identity.InstanceId, StoreKind(server.Value), problem),
                HealthJsonContext.Default.HealthStatus,
                statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(
                new HealthStatus("ok", BrummerMcpServer.Name, BrummerMcpServer.Version, identity.InstanceId, StoreKind(server.Value)),
                HealthJsonContext.Default.HealthStatus));

    private static string StoreKind(ServerOptions server) => server.UsesRedis ? StoreKinds.Redis : StoreKinds.Memory;
}
