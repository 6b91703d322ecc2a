namespace BrummerQueue.Core;

/// <summary>
/// A receive: from exactly one of <see cref="Channel"/> (consume or peek the backlog) or
/// <see cref="SubscriptionId"/> (read a subscription's buffer). Validated by the queue.
/// </summary>
public sealed record ReceiveRequest
{
    /// <summary>Default <see cref="Limit"/>.</summary>
    public const int DefaultLimit = 10;

    /// <summary>Largest <see cref="Limit"/>.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Default <see cref="TimeoutSeconds"/> of a blocking receive.</summary>
    public const double DefaultTimeoutSeconds = 30;

    /// <summary>Largest <see cref="TimeoutSeconds"/>.</summary>
    public const double MaxTimeoutSeconds = 300;

    /// <summary>The channel whose backlog to consume or peek; null when reading a subscription.</summary>
    public string? Channel { get; init; }

    /// <summary>The subscription to read; null when receiving from a channel.</summary>
    public string? SubscriptionId { get; init; }

    /// <summary>Most messages to return, 1–1000. Default 10.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>Wait for at least one message when none is available. Default false.</summary>
    public bool Blocking { get; init; }

    /// <summary>How long a blocking receive waits, 0–300 seconds. Default 30.</summary>
    public double TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    /// <summary>Read without removing (channel only). Default false.</summary>
    public bool Peek { get; init; }

    /// <summary>
    /// When set (channel only, not with <see cref="Peek"/>), the messages are leased for this many seconds instead of removed
    /// (1–3600, wire name <c>ack_timeout</c>): hidden from other receivers until <see cref="IMessageQueue.Ack"/> removes them or
    /// the lease ends and they return to the backlog (docs/protocol.md "Acknowledged receive"). Null: a consuming receive.
    /// </summary>
    public double? AckTimeoutSeconds { get; init; }

    /// <summary>Who takes the leases (a WebSocket, an MCP session): only that owner acks them, and <see cref="IMessageQueue.UnsubscribeOwner"/> ends them.</summary>
    public string? Owner { get; init; }
}
