using System.Net.WebSockets;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Metrics;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.WebSockets;

/// <summary>The WebSocket endpoint <c>/__brummer_ws__</c> (SPEC.md section 3; docs/protocol.md).</summary>
internal static class WebSocketEndpoint
{
    public const string Path = "/__brummer_ws__";

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.Map(Path, HandleAsync).WithName("brummerq-websocket").ExcludeFromDescription();

    private static async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(
                detail: $"{Path} speaks WebSocket only; connect with ws://{context.Request.Host}{Path}",
                statusCode: StatusCodes.Status400BadRequest,
                title: "WebSocket upgrade required").ExecuteAsync(context);
            return;
        }

        var services = context.RequestServices;
        var tracker = services.GetRequiredService<WebSocketConnectionTracker>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("BrummerQueue.Server.WebSockets");
        if (!tracker.TryReserve())
        {
            WebSocketLog.ConnectionLimit(logger, tracker.Count);
            context.Response.Headers.RetryAfter = "5";
            await Results.Problem(
                detail: "the server has reached its WebSocket connection limit (MaxConnections); try again later",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Too many connections").ExecuteAsync(context);
            return;
        }

        try
        {
            var options = services.GetRequiredService<IOptions<ServerOptions>>().Value;
            var keepAlive = TimeSpan.FromSeconds(Math.Max(0, options.KeepAliveSeconds));
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = keepAlive,
                KeepAliveTimeout = keepAlive == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : keepAlive,
            });
            var metrics = services.GetRequiredService<BrummerMetrics>();
            using var connection = new WebSocketConnection(
                socket,
                services.GetRequiredService<IMessageQueue>(),
                options,
                services.GetRequiredService<ServerIdentity>(),
                services.GetRequiredService<TimeProvider>(),
                logger,
                metrics.PushesDropped,
                context.RequestAborted)
            {
                Faults = services.GetService<DeliveryFaults>(),
            };
            tracker.Add(connection);
            try
            {
                await connection.RunAsync();
            }
            finally
            {
                tracker.Remove(connection);
            }
        }
        finally
        {
            tracker.Release();
        }
    }
}
