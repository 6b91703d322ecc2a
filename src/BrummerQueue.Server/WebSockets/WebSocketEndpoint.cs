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

    /// <summary>
    /// Close status of a browser's handshake without the server's token (4401, after HTTP 401, as
    /// graphql-ws and others do). Close statuses 4400–4499 mean "refused: retrying the same way will
    /// not help", and client.js stops reconnecting on them (docs/protocol.md).
    /// </summary>
    public const WebSocketCloseStatus TokenRefusedStatus = (WebSocketCloseStatus)4401;

    /// <summary>How long a refused socket waits for the client's close frame before it is aborted.</summary>
    private static readonly TimeSpan s_refusalCloseTimeout = TimeSpan.FromSeconds(2);

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.Map(Path, HandleAsync).WithName("brummerq-websocket").ExcludeFromDescription();

    /// <summary>
    /// Completes the handshake and closes the socket at once with <paramref name="status"/> and
    /// <paramref name="reason"/> (at most 123 UTF-8 bytes), reading no frame and sending no
    /// greeting: a browser shows a refused handshake to the page only as close 1006, a close
    /// status it shows as sent.
    /// </summary>
    public static async Task RefuseAfterUpgradeAsync(HttpContext context, WebSocketCloseStatus status, string reason)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(s_refusalCloseTimeout);
        try
        {
            await socket.CloseAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The client did not answer the close in time, or went away: nothing more to say to it.
            socket.Abort();
        }
    }

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
                context.RequestAborted);
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
