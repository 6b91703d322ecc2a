namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The counters of channels that cleanup has removed, so that queue totals still include them. Immutable:
/// a retirement publishes a new instance, and a stats call that sees the same instance before and after
/// its walk over the channels knows that no channel was retired meanwhile.
/// </summary>
internal sealed record RetiredTotals(long Sent, long Consumed, long Expired, long Dropped)
{
    public static RetiredTotals None { get; } = new(0, 0, 0, 0);

    /// <summary>Copies put into subscription buffers by removed channels.</summary>
    public long Delivered { get; init; }

    /// <summary>Acknowledged-receive counters of removed channels (their <see cref="LeaseFigures.InFlight"/> is 0: a channel with leases is never removed).</summary>
    public LeaseFigures Leases { get; init; } = LeaseFigures.None;

    public RetiredTotals Add(ChannelState state) =>
        new(Sent + state.Sent, Consumed + state.Consumed, Expired + state.Expired, Dropped + state.Dropped) { Delivered = Delivered + state.Delivered, Leases = Leases + state.ReadLeaseFigures() };

    /// <summary>Messages a removed channel counted as consumed were put back into its live successor, which now counts them as sent.</summary>
    public RetiredTotals MovedToLive(int count) => this with { Sent = Sent - count, Consumed = Consumed - count };

    /// <summary>Messages a removed channel counted as consumed were put back but could not be stored again (the channel limit): dropped.</summary>
    public RetiredTotals DroppedOnPutBack(int count) => this with { Consumed = Consumed - count, Dropped = Dropped + count };
}
