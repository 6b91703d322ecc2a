namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Acknowledged receive (docs/protocol.md "Acknowledged receive"): messages a leased receive took leave the backlog for
/// <c>_leases</c> and keep their bytes in the budget, until an ack removes them or the lease ends and they merge back into
/// the backlog by seq (or move to the dead-letter channel). Every field here is guarded by <see cref="Lock"/>; the
/// counters are also read by <see cref="ReadLeaseFigures"/> without it (the benign race of <see cref="ReadFigures"/>).
/// </summary>
internal sealed partial class ChannelState
{
    // Guarded by Lock. Messages out on lease, by id; made on the first lease.
    private Dictionary<Guid, LeaseEntry>? _leases;

    // Guarded by Lock. A lower bound of the earliest lease deadline (long.MaxValue when none).
    private long _earliestLeaseDeadline = long.MaxValue;

    // Written under Lock; read by ReadLeaseFigures without it. _inFlight is _leases.Count.
    private int _inFlight;
    private long _leased;
    private long _acked;
    private long _redelivered;
    private long _deadLettered;

    /// <summary>Guarded by Lock. Messages out on lease.</summary>
    public int LeaseCountUnsynchronized => _inFlight;

    /// <summary>Guarded by Lock. A lower bound of the earliest lease deadline, <see cref="long.MaxValue"/> when no lease is out.</summary>
    public long EarliestLeaseDeadlineUnsynchronized => _earliestLeaseDeadline;

    /// <summary>This channel's lease figures, read without the lock (see <see cref="ReadFigures"/>).</summary>
    public LeaseFigures ReadLeaseFigures() => new(
        Volatile.Read(ref _inFlight),
        Volatile.Read(ref _leased),
        Volatile.Read(ref _acked),
        Volatile.Read(ref _redelivered),
        Volatile.Read(ref _deadLettered));

    /// <summary>
    /// Leases up to <paramref name="limit"/> unexpired messages from the head of the backlog to <paramref name="owner"/>
    /// until <paramref name="deadlineMs"/>, adding them to <paramref name="into"/>. Their bytes stay reserved.
    /// </summary>
    public int LeaseUnsynchronized(int limit, long nowMs, long deadlineMs, string? owner, ICollection<QueueMessage> into)
    {
        AssertLocked();
        PruneExpiredUnsynchronized(nowMs);
        _leases ??= [];
        var taken = 0;
        while (taken < limit && _backlog.TryDequeue(out var message))
        {
            // After the prune nothing in the backlog has expired.
            _leases[message.Id] = new LeaseEntry(message, deadlineMs, owner);
            into.Add(message);
            taken++;
        }

        _leased += taken;
        _inFlight += taken;
        if (taken > 0)
        {
            _earliestLeaseDeadline = Math.Min(_earliestLeaseDeadline, deadlineMs);
        }

        if (_backlog.Count == 0)
        {
            ResetExpiryTrackingUnsynchronized();
        }
        else if (_expiryOrdered)
        {
            _earliestExpiry = _backlog.Peek().ExpiresAtMs;
        }

        return taken;
    }

    /// <summary>Acks one leased message of <paramref name="owner"/>: removed, counted as acked and consumed. False when it is not out on lease to that owner.</summary>
    public bool TryAckUnsynchronized(Guid id, string? owner)
    {
        AssertLocked();
        if (_leases is null || !_leases.TryGetValue(id, out var lease) || !string.Equals(lease.Owner, owner, StringComparison.Ordinal))
        {
            return false;
        }

        _leases.Remove(id);
        _inFlight--;
        _acked++;
        _consumed++;
        _budget.Release(lease.Message.Payload.Length);
        return true;
    }

    /// <summary>
    /// Ends the leases whose deadline is at or before <paramref name="nowMs"/> (when <paramref name="owner"/> is null), or
    /// every lease of <paramref name="owner"/>: each message counts one more delivery and returns to the backlog in seq order,
    /// or, at <paramref name="maxDeliveries"/>, goes to <paramref name="dead"/> (the caller stores it after releasing the lock);
    /// one whose TTL passed meanwhile counts as expired. Waiting receivers are woken through <paramref name="wake"/>.
    /// </summary>
    public void EndLeasesUnsynchronized(long nowMs, string? owner, int maxDeliveries, List<DeadLetter> dead, ref WakeList wake)
    {
        AssertLocked();
        if (_leases is null || _inFlight == 0 || (owner is null && nowMs < _earliestLeaseDeadline))
        {
            return;
        }

        List<QueueMessage>? ended = null;
        var earliest = long.MaxValue;
        foreach (var (_, lease) in _leases)
        {
            if (owner is null ? lease.DeadlineMs <= nowMs : string.Equals(lease.Owner, owner, StringComparison.Ordinal))
            {
                (ended ??= []).Add(lease.Message);
            }
            else
            {
                earliest = Math.Min(earliest, lease.DeadlineMs);
            }
        }

        _earliestLeaseDeadline = earliest;
        if (ended is null)
        {
            return;
        }

        ended.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
        var returned = new List<QueueMessage>(ended.Count);
        long freed = 0;
        foreach (var message in ended)
        {
            _leases.Remove(message.Id);
            _inFlight--;
            var deliveries = message.DeliveryCount + 1;
            if (message.IsExpiredAt(nowMs))
            {
                _expired++;
                freed += message.Payload.Length;
            }
            else if (deliveries >= maxDeliveries)
            {
                _deadLettered++;
                freed += message.Payload.Length;
                dead.Add(new DeadLetter(message, deliveries));
            }
            else
            {
                _redelivered++;
                returned.Add(message.WithDeliveryCount(deliveries));
            }
        }

        _budget.Release(freed);
        MergeBackUnsynchronized(returned, nowMs, ref wake);
    }

    /// <summary>
    /// Returns what a leased receive took but could not hand over (reads never lose): the leases still out are undone (not a
    /// delivery: the count and <c>leased</c> go back) and the messages merge back into the backlog. A lease that ended meanwhile
    /// already returned its message.
    /// </summary>
    public PutBackResult UnleaseUnsynchronized(IReadOnlyList<QueueMessage> messages, long nowMs, ref WakeList wake)
    {
        AssertLocked();
        var returned = new List<QueueMessage>(messages.Count);
        var expired = 0;
        long freed = 0;
        foreach (var message in messages)
        {
            // The same instance: a lease that ended and was taken again holds a copy (one more delivery), which stays.
            if (_leases is null || !_leases.TryGetValue(message.Id, out var lease) || !ReferenceEquals(lease.Message, message))
            {
                continue;
            }

            _leases.Remove(message.Id);

            _inFlight--;
            _leased--;
            if (message.IsExpiredAt(nowMs))
            {
                _expired++;
                expired++;
                freed += message.Payload.Length;
            }
            else
            {
                returned.Add(message);
            }
        }

        _budget.Release(freed);
        var dropped = MergeBackUnsynchronized(returned, nowMs, ref wake);
        return new PutBackResult(returned.Count - dropped, expired, dropped);
    }

    /// <summary>
    /// Merges messages (in seq order, their bytes still reserved) into the backlog by seq, then applies the capacity rule
    /// (the oldest are dropped and counted until it fits). Returns how many were dropped.
    /// </summary>
    private int MergeBackUnsynchronized(List<QueueMessage> returned, long nowMs, ref WakeList wake)
    {
        if (returned.Count == 0)
        {
            return 0;
        }

        PruneExpiredUnsynchronized(nowMs);
        var existing = _backlog.Count;
        var next = 0;
        for (var i = 0; i < existing; i++)
        {
            var message = _backlog.Dequeue();
            while (next < returned.Count && returned[next].Seq < message.Seq)
            {
                _backlog.Enqueue(returned[next++]);
            }

            _backlog.Enqueue(message);
        }

        while (next < returned.Count)
        {
            _backlog.Enqueue(returned[next++]);
        }

        var dropped = 0;
        long freed = 0;
        while (_backlog.Count > _capacity)
        {
            freed += _backlog.Dequeue().Payload.Length;
            dropped++;
        }

        _dropped += dropped;
        _budget.Release(freed);
        IsListed = true;
        RecomputeExpiryTrackingUnsynchronized();
        if (_arrival is not null)
        {
            wake.Add(_arrival);
            _arrival = null;
        }

        return dropped;
    }
}
