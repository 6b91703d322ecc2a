namespace BrummerQueue.Core;

/// <summary>
/// Totals and per-channel figures, exact at the moment they were taken. Totals include channels
/// that cleanup has since removed; <see cref="Channels"/> lists the live ones, sorted by name.
/// </summary>
public sealed record QueueStats
{
    /// <summary>Unexpired messages in all backlogs.</summary>
    public required long TotalMessages { get; init; }

    /// <summary>Live channels.</summary>
    public required int TotalChannels { get; init; }

    /// <summary>Open subscriptions.</summary>
    public required int TotalSubscriptions { get; init; }

    /// <summary>Payload bytes retained in all backlogs.</summary>
    public required long TotalBytes { get; init; }

    /// <summary>Messages stored since start.</summary>
    public required long MessagesSent { get; init; }

    /// <summary>Messages removed by receives since start.</summary>
    public required long MessagesConsumed { get; init; }

    /// <summary>Messages removed by expiry since start.</summary>
    public required long MessagesExpired { get; init; }

    /// <summary>Messages evicted from full backlogs since start.</summary>
    public required long MessagesDropped { get; init; }

    /// <summary>
    /// Copies put into subscription buffers since start: a send that reached three subscriptions counts three (the sum of
    /// <see cref="SendResult.DeliveredTo"/>). Not part of SPEC.md's stats; 0 from a store that does not count it.
    /// </summary>
    public long MessagesDelivered { get; init; }

    /// <summary>Acknowledged-receive totals (removed channels included). Default all zero.</summary>
    public LeaseFigures Leases { get; init; } = LeaseFigures.None;

    /// <summary>Blocking receives waiting on a channel right now (a diagnostic figure; not part of SPEC.md's stats).</summary>
    public int WaitingReceivers { get; init; }

    /// <summary>Whole seconds since the queue was created.</summary>
    public required long UptimeSeconds { get; init; }

    /// <summary>Figures of each live channel, by name (ordinal order).</summary>
    public required IReadOnlyDictionary<string, ChannelStats> Channels { get; init; }

    /// <summary>
    /// Every open subscription, by channel (ordinal order), then oldest first. Not part of SPEC.md's stats; empty from a
    /// store that does not list them. Default empty.
    /// </summary>
    public IReadOnlyList<SubscriptionStats> Subscriptions { get; init; } = [];
}
