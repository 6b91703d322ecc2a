using System.Net.WebSockets;
using BrummerQueue.Core;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// One frame waiting for a socket's writer: a serialized reply, a push of a subscribed message
/// (serialized only when it is written, so dropped pushes cost nothing), or the close handshake.
/// </summary>
internal readonly record struct OutboundItem
{
    /// <summary>A serialized reply (never dropped).</summary>
    public byte[]? Reply { get; init; }

    /// <summary>For a reply that hands over consumed messages: what was taken, put back if the reply is not sent (SPEC.md §1).</summary>
    public ReceiveResult? Taken { get; init; }

    /// <summary>The subscription a push belongs to.</summary>
    public SocketSubscription? Subscription { get; init; }

    /// <summary>The pushed message.</summary>
    public QueueMessage? Message { get; init; }

    /// <summary>Messages the subscription lost before this one, as the engine reported them.</summary>
    public long Dropped { get; init; }

    /// <summary>When set, the writer sends this close status and stops.</summary>
    public WebSocketCloseStatus? CloseStatus { get; init; }

    /// <summary>The close reason sent with <see cref="CloseStatus"/>.</summary>
    public string? CloseReason { get; init; }
}
