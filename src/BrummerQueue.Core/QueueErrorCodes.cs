namespace BrummerQueue.Core;

/// <summary>
/// The machine-readable codes of refusals; hosts pass them to clients unchanged on every face (MCP tool
/// errors, WebSocket <c>error</c> frames, HTTP problem+json). The five limit codes are all here, those the
/// engine raises and those a host raises (frame rate, connections), so every face names a limit the same way.
/// </summary>
public static class QueueErrorCodes
{
    /// <summary>An argument broke its rule; <see cref="QueueException.Field"/> names it.</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>The message (or the frame or body carrying it) is larger than its limit (<see cref="QueueOptions.MaxMessageBytes"/>).</summary>
    public const string MessageTooLarge = "message_too_large";

    /// <summary>
    /// The queue cannot hold more: retained payload would exceed <see cref="QueueOptions.MaxTotalBytes"/>, or a new
    /// channel would exceed <see cref="QueueOptions.MaxChannels"/>. Nothing was stored and nothing stored was lost.
    /// </summary>
    public const string QueueFull = "queue_full";

    /// <summary>A client sent more than its limit allows at once (WebSocket frames per second, blocking receives waiting).</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The server holds its most WebSocket connections; try again later.</summary>
    public const string TooManyConnections = "too_many_connections";

    /// <summary>The connection or MCP session holds <see cref="QueueOptions.MaxSubscriptionsPerOwner"/> subscriptions.</summary>
    public const string TooManySubscriptions = "too_many_subscriptions";

    /// <summary>The subscription named does not exist (never did, was unsubscribed, or expired).</summary>
    public const string NotFound = "not_found";

    /// <summary>
    /// The store behind the queue cannot be reached or did not answer (the Redis store). The message says which: not
    /// connected (nothing was done; the node reconnects by itself, so the request may be retried), or no answer within the
    /// command timeout (the outcome is unknown: a send may have been stored, so check before retrying). HTTP answers it
    /// with 503. docs/protocol.md, docs/scale-out.md "Failure behaviour".
    /// </summary>
    public const string StoreUnavailable = "store_unavailable";

    /// <summary>A request (<c>queue_request</c>) got no reply within its timeout; nothing waits for one any more. HTTP answers it with 504.</summary>
    public const string Timeout = "timeout";
}
