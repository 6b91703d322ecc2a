using System.Net.WebSockets;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Metrics;
using BrummerQueue.Server.Security;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// The WebSocket endpoint <c>/__brummer_ws__</c> (SPEC.md section 3; docs/protocol.md). A handshake refused for
/// its token or for the connection limit is accepted and closed at once with an <c>error</c> frame and a close
/// code (4401, 1013), because a browser sees neither the HTTP status nor the body of a failed handshake.
/// </summary>
internal static class WebSocketEndpoint
{
    public const string Path = "/__brummer_ws__";

    // How long a refused socket waits for the client's close frame before it is aborted.
    private static readonly TimeSpan s_refusalCloseTimeout = TimeSpan.FromSeconds(2);

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
        var metrics = services.GetRequiredService<BrummerMetrics>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("BrummerQueue.Server.WebSockets");
        if (context.Items.TryGetValue(RequestGuardMiddleware.TokenRefusedItem, out var refusedDetail))
        {
            var (detail, tokenGiven) = ((string, bool))refusedDetail!;

            // The close reason (at most 123 bytes) tells a page which of the two it was; the token given is never echoed.
            var reason = tokenGiven
                ? "token refused: the token given is not this server's --token"
                : "token required: connect with ?token=<the server's --token>";
            await RefuseAsync(context, tracker, ErrorCodes.Unauthorized, detail, ErrorCodes.UnauthorizedCloseStatus, reason, () =>
                RequestGuardMiddleware.RefuseToken(context, detail));
            return;
        }

        if (!tracker.TryReserve())
        {
            metrics.LimitHit(nameof(ServerOptions.MaxConnections));
            WebSocketLog.ConnectionLimit(logger, tracker.Count);
            var detail = $"{QueueErrorCodes.TooManyConnections}: the server holds its most WebSocket connections; try again later ({SettingNames.RaiseHint(nameof(ServerOptions.MaxConnections))})";
            await RefuseAsync(context, tracker, QueueErrorCodes.TooManyConnections, detail, ErrorCodes.TryAgainLaterCloseStatus, "too many connections", () =>
            {
                context.Response.Headers.RetryAfter = "5";
                return Results.Problem(
                    detail: detail,
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Too many connections",
                    extensions: new Dictionary<string, object?> { ["code"] = QueueErrorCodes.TooManyConnections }).ExecuteAsync(context);
            });
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
            using var connection = new WebSocketConnection(
                socket,
                services.GetRequiredService<IMessageQueue>(),
                options,
                services.GetRequiredService<ServerIdentity>(),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<HostStopping>(),
                logger,
                metrics.PushesDropped,
                context.RequestAborted,
                metrics.LimitHit)
            {
                Faults = services.GetService<DeliveryFaults>(),
                Batched = context.Request.Query["batch"] is [var batch] && batch is "1" or "true",
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

    /// <summary>
    /// Accepts the socket only to send <c>error</c> <c>{ code, message }</c> and close it with <paramref name="closeStatus"/>;
    /// when <see cref="WebSocketConnectionTracker.MaxRefusing"/> sockets are already being refused, answers
    /// <paramref name="httpRefusal"/> before the upgrade instead.
    /// </summary>
    private static async Task RefuseAsync(HttpContext context, WebSocketConnectionTracker tracker, string code, string message, int closeStatus, string reason, Func<Task> httpRefusal)
    {
        if (!tracker.TryReserveRefusal())
        {
            await httpRefusal();
            return;
        }

        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(s_refusalCloseTimeout);
            try
            {
                await socket.SendAsync(ServerFrames.Error(null, code, message, null), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
                await socket.CloseOutputAsync((WebSocketCloseStatus)closeStatus, reason, deadline.Token);
                var buffer = new byte[256];
                while ((await socket.ReceiveAsync(buffer, deadline.Token)).MessageType != WebSocketMessageType.Close)
                {
                    // Frames sent before the client saw the close are dropped unread.
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
            {
                // The client went away or did not answer the close in time: the socket is aborted below.
            }

            if (socket.State != WebSocketState.Closed)
            {
                socket.Abort();
            }
        }
        finally
        {
            tracker.ReleaseRefusal();
        }
    }
}
