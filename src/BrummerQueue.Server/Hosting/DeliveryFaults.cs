namespace BrummerQueue.Server.Hosting;

/// <summary>
/// A test seam for SPEC.md §1 "Reads never lose": lets a test make the reply that hands consumed messages
/// to a client fail on one face, as a client that vanished or a broken write would, so that the put-back
/// path can be tested on every face. One per host (a singleton); inert unless a test sets
/// <see cref="FailReply"/>. Each face consults it once, just before it writes such a reply, and then fails
/// the way that face really fails: the WebSocket is aborted, the HTTP request is aborted, the MCP transport
/// write throws.
/// </summary>
internal sealed class DeliveryFaults
{
    /// <summary>The WebSocket face's name for <see cref="FailReply"/>.</summary>
    public const string WebSocket = "websocket";

    /// <summary>The HTTP API's name for <see cref="FailReply"/>.</summary>
    public const string Http = "http";

    /// <summary>MCP's name for <see cref="FailReply"/> (Streamable HTTP and stdio).</summary>
    public const string Mcp = "mcp";

    /// <summary>
    /// Called with the face's name before a reply carrying consumed messages is written; true makes that write
    /// fail. Null (the default) fails nothing. Thread-safe as far as the delegate is.
    /// </summary>
    public Func<string, bool>? FailReply { get; set; }

    /// <summary>True when a test wants this reply on <paramref name="face"/> to fail.</summary>
    public bool ShouldFail(string face) => FailReply?.Invoke(face) ?? false;
}
