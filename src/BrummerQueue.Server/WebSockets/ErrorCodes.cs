namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// The <c>code</c>s of WebSocket <c>error</c> frames besides <see cref="Core.QueueErrorCodes"/> (passed on unchanged:
/// invalid_argument, message_too_large, queue_full, rate_limited, too_many_connections, too_many_subscriptions, not_found).
/// </summary>
internal static class ErrorCodes
{
    /// <summary>The frame is not a JSON object (or is a binary frame).</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>The frame's <c>type</c> is not one the server knows.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>
    /// The server has a token and the request did not carry it: the WebSocket's <c>error</c> frame before the close with
    /// <see cref="UnauthorizedCloseStatus"/>, and the <c>code</c> of every 401 problem.
    /// </summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>Close status for a refused token (4401, as HTTP 401; the range 4000–4999 is the application's).</summary>
    public const int UnauthorizedCloseStatus = 4401;

    /// <summary>Close status for a connection over the limit: 1013 "Try Again Later" (RFC 6455 registry).</summary>
    public const int TryAgainLaterCloseStatus = 1013;

    /// <summary>An unexpected server fault while handling one frame; the connection stays open.</summary>
    public const string InternalError = "internal_error";
}
