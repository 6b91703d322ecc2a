namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// The <c>code</c>s of WebSocket <c>error</c> frames besides the engine's (<see cref="Core.QueueErrorCodes"/>,
/// passed on unchanged: invalid_argument, message_too_large, queue_full, limit_exceeded, not_found).
/// </summary>
internal static class ErrorCodes
{
    /// <summary>The frame is not a JSON object (or is a binary frame).</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>The frame's <c>type</c> is not one the server knows.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>The frame is over the size limit; the socket is then closed with 1009.</summary>
    public const string FrameTooLarge = "frame_too_large";

    /// <summary>The client sent frames faster than the limit; the socket is then closed with 1008.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>An unexpected server fault while handling one frame; the connection stays open.</summary>
    public const string InternalError = "internal_error";
}
