namespace BrummerQueue.Core;

/// <summary>
/// Limits and defaults of a message queue. Immutable; validated once by <see cref="Validate"/>,
/// which the factory calls. Every property documents its default, which matches SPEC.md.
/// </summary>
public sealed record QueueOptions
{
    /// <summary>
    /// Largest <see cref="MaxPayloadDepth"/>: the MCP SDK writes a message over HTTP with at most 1,000
    /// levels, and a tool result nests a payload a few levels inside it.
    /// </summary>
    public const int MaxPayloadDepthLimit = 900;

    /// <summary>Largest message, serialized, in bytes. Default 1 MiB.</summary>
    public int MaxMessageBytes { get; init; } = 1 << 20;

    /// <summary>
    /// Levels a payload may nest, counted from the payload itself (<c>[[1]]</c> is 2 levels, a scalar 0).
    /// Between 1 and 900 (<see cref="MaxPayloadDepthLimit"/>). Default 64. Every face accepts and delivers a payload
    /// at exactly this depth; a deeper one is refused with <c>invalid_argument</c> on <c>payload</c>.
    /// </summary>
    public int MaxPayloadDepth { get; init; } = 64;

    /// <summary>Messages a channel's backlog keeps; a send beyond it evicts the oldest. Default 10,000.</summary>
    public int ChannelCapacity { get; init; } = 10_000;

    /// <summary>Channels that may exist at once. Default 10,000.</summary>
    public int MaxChannels { get; init; } = 10_000;

    /// <summary>Retained payload bytes across all backlogs; a send beyond it fails with <c>queue_full</c>. Default 256 MiB.</summary>
    public long MaxTotalBytes { get; init; } = 256L << 20;

    /// <summary>Time to live of a message sent without one, in seconds. Default 3600.</summary>
    public int DefaultTtlSeconds { get; init; } = 3600;

    /// <summary>Largest time to live a sender may ask for, in seconds. Default 604,800 (7 days).</summary>
    public int MaxTtlSeconds { get; init; } = 604_800;

    /// <summary>Buffer of a subscription made without a size. Default 100.</summary>
    public int DefaultSubscriptionBufferSize { get; init; } = 100;

    /// <summary>Largest subscription buffer. Default 10,000.</summary>
    public int MaxSubscriptionBufferSize { get; init; } = 10_000;

    /// <summary>Subscriptions one owner (a WebSocket or an MCP session) may hold. Default 100.</summary>
    public int MaxSubscriptionsPerOwner { get; init; } = 100;

    /// <summary>How often the sweeper removes expired messages, empty channels and idle subscriptions. Default 10 s.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A subscription neither read nor waited on for this long is removed by the sweeper. Default 10 minutes.</summary>
    public TimeSpan SubscriptionIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Leased deliveries a message gets: when the lease of its last one ends unacknowledged it moves to the channel
    /// <c>&lt;channel&gt;.dead</c> (<see cref="DeadLetters"/>). At least 1. Default 5.
    /// </summary>
    public int MaxDeliveries { get; init; } = 5;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        Positive(MaxMessageBytes, nameof(MaxMessageBytes));
        if (MaxPayloadDepth < 1 || MaxPayloadDepth > MaxPayloadDepthLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayloadDepth), MaxPayloadDepth, $"MaxPayloadDepth must be between 1 and {MaxPayloadDepthLimit}.");
        }

        Positive(ChannelCapacity, nameof(ChannelCapacity));
        Positive(MaxChannels, nameof(MaxChannels));
        Positive(MaxTotalBytes, nameof(MaxTotalBytes));
        Positive(MaxTtlSeconds, nameof(MaxTtlSeconds));
        if (DefaultTtlSeconds < 0 || DefaultTtlSeconds > MaxTtlSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultTtlSeconds), DefaultTtlSeconds, $"DefaultTtlSeconds must be between 0 and MaxTtlSeconds ({MaxTtlSeconds}).");
        }

        Positive(MaxSubscriptionBufferSize, nameof(MaxSubscriptionBufferSize));
        if (DefaultSubscriptionBufferSize < 1 || DefaultSubscriptionBufferSize > MaxSubscriptionBufferSize)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultSubscriptionBufferSize), DefaultSubscriptionBufferSize, $"DefaultSubscriptionBufferSize must be between 1 and MaxSubscriptionBufferSize ({MaxSubscriptionBufferSize}).");
        }

        Positive(MaxSubscriptionsPerOwner, nameof(MaxSubscriptionsPerOwner));
        Positive(MaxDeliveries, nameof(MaxDeliveries));
        if (SweepInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SweepInterval), SweepInterval, "SweepInterval must be positive.");
        }

        if (SubscriptionIdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SubscriptionIdleTimeout), SubscriptionIdleTimeout, "SubscriptionIdleTimeout must be positive.");
        }
    }

    private static void Positive(long value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
        }
    }
}
