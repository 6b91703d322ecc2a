using System.Text;

namespace BrummerQueue.Core.Tests.Model;

/// <summary>
/// Acknowledged receive in the model (docs/protocol.md "Acknowledged receive"), every rule applied literally: a lease takes
/// messages off the head, an ack removes them, a lease that ends (its deadline passed, its owner ended) returns them by seq
/// with one more delivery or, at <see cref="MaxDeliveries"/>, moves them to <c>&lt;channel&gt;.dead</c> as a wrapped dead letter.
/// </summary>
internal sealed partial class QueueModel
{
    private readonly List<ModelLease> _leases = [];
    private LeaseFigures _retiredLeases = LeaseFigures.None;
    private long _nextId;

    /// <summary>Deliveries before a message is dead-lettered (the engine's <see cref="QueueOptions.MaxDeliveries"/>).</summary>
    public int MaxDeliveries { get; init; } = 5;

    /// <summary>The totals of <see cref="QueueStats.Leases"/>.</summary>
    public LeaseFigures LeaseTotals()
    {
        var total = _retiredLeases;
        foreach (var (_, state) in _channels)
        {
            total += LeaseFiguresOf(state);
        }

        return total;
    }

    /// <summary>A leased receive: up to <paramref name="limit"/> messages from the head, leased until now + <paramref name="leaseMs"/>.</summary>
    public List<ModelLease> Lease(string channel, int limit, long leaseMs, string owner)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            return [];
        }

        Prune(state);
        var taken = state.Backlog.Take(limit).ToList();
        state.Backlog.RemoveRange(0, taken.Count);
        var leases = taken.Select(m => new ModelLease(channel, state, m, NowMs + leaseMs, owner)).ToList();
        _leases.AddRange(leases);
        state.Leases = state.Leases with { Leased = state.Leases.Leased + taken.Count };
        return leases;
    }

    /// <summary>Acks the message <paramref name="id"/> of <paramref name="channel"/> if it is out on lease to <paramref name="owner"/>.</summary>
    public bool Ack(string channel, long id, string owner)
    {
        var lease = _leases.FirstOrDefault(l => l.Channel == channel && l.Message.Id == id && l.Owner == owner && _channels.TryGetValue(channel, out var live) && ReferenceEquals(live, l.State));
        if (lease is null)
        {
            return false;
        }

        _leases.Remove(lease);
        lease.State.Consumed++;
        lease.State.Leases = lease.State.Leases with { Acked = lease.State.Leases.Acked + 1 };
        return true;
    }

    /// <summary>Ends the leases whose deadline has passed.</summary>
    public void EndDueLeases() => EndLeases(l => l.Deadline <= NowMs);

    /// <summary>Ends every lease of <paramref name="owner"/> (its session or socket ended).</summary>
    public void EndLeasesOf(string owner) => EndLeases(l => l.Owner == owner);

    /// <summary>A leased receive that was not handed over: the leases still out are undone and their messages return.</summary>
    public (int Restored, int Expired, int Dropped) Unlease(List<ModelLease> leases)
    {
        var still = leases.Where(_leases.Contains).ToList();
        if (still.Count == 0)
        {
            return (0, 0, 0);
        }

        var state = still[0].State;
        var returned = new List<ModelMessage>();
        var expired = 0;
        foreach (var lease in still)
        {
            _leases.Remove(lease);
            state.Leases = state.Leases with { Leased = state.Leases.Leased - 1 };
            if (NowMs >= lease.Message.ExpiresAt)
            {
                state.Expired++;
                expired++;
            }
            else
            {
                returned.Add(lease.Message);
            }
        }

        var dropped = MergeBack(state, returned);
        return (returned.Count - dropped, expired, dropped);
    }

    private void EndLeases(Func<ModelLease, bool> which)
    {
        foreach (var group in _leases.Where(which).GroupBy(l => l.State).ToList())
        {
            var state = group.Key;
            var returned = new List<ModelMessage>();
            var dead = new List<ModelMessage>();
            foreach (var lease in group.OrderBy(l => l.Message.Seq))
            {
                _leases.Remove(lease);
                var message = lease.Message;
                var deliveries = message.Deliveries + 1;
                if (NowMs >= message.ExpiresAt)
                {
                    state.Expired++;
                }
                else if (deliveries >= MaxDeliveries)
                {
                    state.Leases = state.Leases with { DeadLettered = state.Leases.DeadLettered + 1 };
                    dead.Add(message with { Deliveries = deliveries });
                }
                else
                {
                    state.Leases = state.Leases with { Redelivered = state.Leases.Redelivered + 1 };
                    returned.Add(message with { Deliveries = deliveries });
                }
            }

            MergeBack(state, returned);
            var channel = group.First().Channel;
            foreach (var message in dead)
            {
                StoreDeadLetter(channel, message);
            }
        }
    }

    /// <summary>Merges returned messages into the backlog by seq, then drops the oldest beyond the capacity; returns how many were dropped.</summary>
    private int MergeBack(ModelChannel state, List<ModelMessage> returned)
    {
        if (returned.Count == 0)
        {
            return 0;
        }

        Prune(state);
        var merged = state.Backlog.Concat(returned).OrderBy(m => m.Seq).ToList();
        var dropped = Math.Max(0, merged.Count - capacity);
        state.Backlog.Clear();
        state.Backlog.AddRange(merged.Skip(dropped));
        state.Dropped += dropped;
        return dropped;
    }

    /// <summary>A dead letter: a new message in <c>&lt;channel&gt;.dead</c>, stored without the byte cap, evicting by capacity.</summary>
    private void StoreDeadLetter(string channel, ModelMessage message)
    {
        var deadChannel = DeadLetters.ChannelFor(channel);
        var state = GetOrCreate(deadChannel);
        Prune(state);
        if (state.Backlog.Count >= capacity)
        {
            state.Backlog.RemoveAt(0);
            state.Dropped++;
        }

        var wrapper = $"{{\"reason\":\"max_deliveries\",\"channel\":\"{channel}\",\"message_id\":\"{Guid.Empty:D}\",\"seq\":{message.Seq},\"delivery_count\":{message.Deliveries},\"payload\":}}";
        var bytes = Encoding.UTF8.GetByteCount(wrapper) + message.Bytes;
        var letter = new ModelMessage(++state.LastSeq, message.Ttl == 0 ? long.MaxValue : NowMs + (message.Ttl * 1000L), bytes) { Channel = deadChannel, Id = ++_nextId, Ttl = message.Ttl };
        state.Backlog.Add(letter);
        state.Sent++;

        // The dead-letter channel is a channel like any other: its subscriptions, by name or by pattern, get a copy.
        foreach (var subscription in Subscriptions.Where(s => !s.Closed && s.Receives(deadChannel)))
        {
            subscription.Enqueue(letter);
            state.Delivered++;
        }
    }

    private bool HasLeases(ModelChannel state) => _leases.Any(l => ReferenceEquals(l.State, state));

    private long LeasedBytes() => _leases.Sum(l => (long)l.Message.Bytes);

    private LeaseFigures LeaseFiguresOf(ModelChannel state) => state.Leases with { InFlight = _leases.Count(l => ReferenceEquals(l.State, state)) };
}
