namespace BrummerQueue.Core;

/// <summary>Per-channel figures of <see cref="QueueStats"/>. For every channel, Sent = Messages + Consumed + Expired + Dropped (+ Leases.InFlight + Leases.DeadLettered).</summary>
/// <param name="Epoch">The channel's current epoch (<see cref="ChannelEpoch"/>); the figures are those of this incarnation.</param>
/// <param name="Messages">Unexpired messages in the backlog.</param>
/// <param name="Subscriptions">Open subscriptions.</param>
/// <param name="Sent">Messages stored.</param>
/// <param name="Consumed">Messages removed by a (non-peek) receive.</param>
/// <param name="Expired">Messages removed because their TTL passed.</param>
/// <param name="Dropped">Messages evicted because the backlog was full.</param>
public sealed record ChannelStats(string Epoch, int Messages, int Subscriptions, long Sent, long Consumed, long Expired, long Dropped)
{
    /// <summary>Copies put into this channel's subscription buffers (a send reaching three subscriptions counts three). Default 0.</summary>
    public long Delivered { get; init; }

    /// <summary>Acknowledged-receive figures of this incarnation. Default all zero.</summary>
    public LeaseFigures Leases { get; init; } = LeaseFigures.None;
}
