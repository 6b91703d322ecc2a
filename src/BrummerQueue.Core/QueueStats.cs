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

    /// <summary>Blocking receives waiting on a channel right now (a diagnostic figure; not part of SPEC.md's stats).</summary>
    public int WaitingReceivers { get; init; }

    /// <summary>Whole seconds since the queue was created.</summary>
    public required long UptimeSeconds { get; init; }

    /// <summary>Figures of each live channel, by name (ordinal order).</summary>
    public required IReadOnlyDictionary<string, ChannelStats> Channels { get; init; }
}
