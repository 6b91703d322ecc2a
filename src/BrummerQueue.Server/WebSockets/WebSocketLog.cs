namespace BrummerQueue.Server.WebSockets;

/// <summary>Log messages of the WebSocket endpoint (event ids 4100–4199).</summary>
internal static partial class WebSocketLog
{
    [LoggerMessage(4100, LogLevel.Debug, "WebSocket {ClientId} connected")]
    public static partial void Connected(ILogger logger, string clientId);

    [LoggerMessage(4101, LogLevel.Debug, "WebSocket {ClientId} disconnected")]
    public static partial void Disconnected(ILogger logger, string clientId);

    [LoggerMessage(4102, LogLevel.Information, "WebSocket {ClientId} closed by the server: {Status} {Reason}")]
    public static partial void ClosedByServer(ILogger logger, string clientId, string status, string reason);

    [LoggerMessage(4103, LogLevel.Error, "WebSocket {ClientId}: unexpected error handling a {FrameType} frame")]
    public static partial void FrameFailed(ILogger logger, Exception exception, string clientId, string frameType);

    [LoggerMessage(4104, LogLevel.Debug, "WebSocket {ClientId} ended abruptly: {Reason}")]
    public static partial void Aborted(ILogger logger, string clientId, string reason);

    [LoggerMessage(4105, LogLevel.Warning, "WebSocket refused: {Count} connections open (MaxConnections)")]
    public static partial void ConnectionLimit(ILogger logger, int count);
}
