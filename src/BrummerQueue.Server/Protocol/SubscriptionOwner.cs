namespace BrummerQueue.Server.Protocol;

/// <summary>
/// The owner tags the server gives queue subscriptions (<c>SubscribeOptions.Owner</c>), made and read in this one
/// place: <c>mcp:{session}</c> for an MCP session, <c>ws-{id}</c> for a WebSocket connection, none for a subscription
/// made without a session (MCP 2026-07-28). Stats show an owner only by its kind, never its id (an MCP session id
/// is what a client presents to use that session).
/// </summary>
internal static class SubscriptionOwner
{
    /// <summary>Kind of a subscription owned by an MCP session.</summary>
    public const string McpSessionKind = "mcp_session";

    /// <summary>Kind of a subscription owned by a WebSocket connection.</summary>
    public const string WebSocketKind = "websocket";

    /// <summary>Kind of a subscription without owner: it ends by <c>queue_unsubscribe</c> or the idle limit.</summary>
    public const string NoneKind = "none";

    private const string McpSessionPrefix = "mcp:";
    private const string WebSocketPrefix = "ws-";

    /// <summary>The owner tag of an MCP session's subscriptions; <paramref name="sessionKey"/> is its id or <c>stdio</c>.</summary>
    public static string ForMcpSession(string sessionKey) => McpSessionPrefix + sessionKey;

    /// <summary>A new WebSocket connection id, which is also the owner tag of its subscriptions.</summary>
    public static string NewWebSocketId() => WebSocketPrefix + Guid.CreateVersion7().ToString("N");

    /// <summary>The kind of an owner tag: <see cref="McpSessionKind"/>, <see cref="WebSocketKind"/>, <see cref="NoneKind"/>, or <c>other</c> for a tag made elsewhere.</summary>
    public static string KindOf(string? owner) => owner switch
    {
        null => NoneKind,
        _ when owner.StartsWith(McpSessionPrefix, StringComparison.Ordinal) => McpSessionKind,
        _ when owner.StartsWith(WebSocketPrefix, StringComparison.Ordinal) => WebSocketKind,
        _ => "other",
    };
}
