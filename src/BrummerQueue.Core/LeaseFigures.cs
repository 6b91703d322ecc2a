namespace BrummerQueue.Core;

/// <summary>
/// Acknowledged-receive figures of a channel (<see cref="ChannelStats.Leases"/>) or of the whole queue
/// (<see cref="QueueStats.Leases"/>); docs/protocol.md "Acknowledged receive". Counters since start, except
/// <see cref="InFlight"/>. For a channel, Sent = Messages + InFlight + Consumed + Expired + Dropped + DeadLettered
/// (an ack counts as consumed), and Leased = Acked + Redelivered + DeadLettered + InFlight + the leased messages whose
/// lease ended after their TTL had passed (counted expired) or that the capacity rule dropped on their return.
/// </summary>
/// <param name="InFlight">Messages out on lease right now (not in the backlog, hidden from receivers).</param>
/// <param name="Leased">Deliveries made by receives with an <c>ack_timeout</c> (a message leased twice counts twice).</param>
/// <param name="Acked">Leased messages acknowledged (and so removed).</param>
/// <param name="Redelivered">Leased messages returned to the backlog because their lease ended unacknowledged.</param>
/// <param name="DeadLettered">Messages moved to the dead-letter channel after <see cref="QueueOptions.MaxDeliveries"/> deliveries.</param>
public sealed record LeaseFigures(long InFlight, long Leased, long Acked, long Redelivered, long DeadLettered)
{
    /// <summary>All zero.</summary>
    public static LeaseFigures None { get; } = new(0, 0, 0, 0, 0);

    /// <summary>The sum of two sets of figures.</summary>
    public static LeaseFigures operator +(LeaseFigures left, LeaseFigures right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.InFlight + right.InFlight, left.Leased + right.Leased, left.Acked + right.Acked, left.Redelivered + right.Redelivered, left.DeadLettered + right.DeadLettered);
    }

    /// <summary>The sum of two sets of figures (the named form of <c>+</c>).</summary>
    public static LeaseFigures Add(LeaseFigures left, LeaseFigures right) => left + right;
}
