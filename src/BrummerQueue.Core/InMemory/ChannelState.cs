using System.Diagnostics;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// One channel: its backlog, its subscriptions and its counters. Every mutable field is guarded
/// by <see cref="Lock"/>, which also guards the buffers of this channel's subscriptions, so a send
/// appends, assigns the seq and fans out in one short critical section and every subscription
/// sees the channel's messages in seq order. Methods ending in <c>Unsynchronized</c> must be
/// called with the lock held. Channels never share a lock: sends to different channels do not contend.
/// <para>
/// Memory layout: a send writes this object's counters, its backlog's head and tail and its lock. If
/// another channel's hot objects shared a cache line with them, two threads sending to two channels would
/// still fight over that line (false sharing: in run D two channels of one engine scaled 1.10× on two
/// cores, and a guard after each channel alone took that to 1.34×). The allocator places objects made one
/// after another by a thread next to each other, and the GC keeps their order when it compacts, so
/// <see cref="Create"/> allocates the channel's hot objects between two guards of
/// <see cref="GuardBytes"/> (two cache lines, as the adjacent-line prefetcher fetches lines in pairs).
/// </para>
/// </summary>
internal sealed partial class ChannelState
{
    private const int GuardBytes = 128;
    private static readonly InMemorySubscription[] s_noSubscriptions = [];

    private readonly ByteBudget _budget;
    private readonly int _capacity;

    // Never read: they keep other objects off the cache lines of this channel's hot objects (see the summary).
    private readonly byte[] _leadGuard;
    private readonly byte[] _trailGuard;

    // Guarded by Lock. Oldest message first; seqs strictly increase along the queue.
    private readonly Queue<QueueMessage> _backlog;

    // Guarded by Lock (written); copy-on-write so that fan-out can iterate without copying.
    private InMemorySubscription[] _subscriptions = s_noSubscriptions;

    // Guarded by Lock. A lower bound of the earliest ExpiresAtMs in the backlog (long.MaxValue when empty).
    private long _earliestExpiry = long.MaxValue;

    // Guarded by Lock. True while the backlog's expiry times are non-decreasing, so expired messages form a prefix.
    private bool _expiryOrdered = true;

    // Guarded by Lock. ExpiresAtMs of the newest message appended.
    private long _lastExpiry = long.MinValue;

    // Guarded by Lock. Completed (outside the lock) by the next send; shared by every waiting receiver.
    private TaskCompletionSource? _arrival;

    // The allocation order is the memory layout: lead guard (by Create), this object, backlog, lock, trail guard.
    private ChannelState(string name, string epoch, int capacity, ByteBudget budget, byte[] leadGuard)
    {
        Name = name;
        Epoch = epoch;
        _capacity = capacity;
        _budget = budget;
        _leadGuard = leadGuard;
        _backlog = new Queue<QueueMessage>();
        Lock = new Lock();
        _trailGuard = new byte[GuardBytes];
    }

    /// <summary>
    /// Makes a channel whose hot objects share no cache line with other objects (see the summary), in
    /// <paramref name="epoch"/>: a new one (<see cref="ChannelEpoch.New"/>) for each incarnation.
    /// </summary>
    public static ChannelState Create(string name, string epoch, int capacity, ByteBudget budget) =>
        new(name, epoch, capacity, budget, new byte[GuardBytes]);

    public string Name { get; }

    /// <summary>This incarnation's epoch; immutable, so read without the lock.</summary>
    public string Epoch { get; }

    public Lock Lock { get; }

    /// <summary>Guarded by Lock. Set once, when cleanup removes the channel; a caller that finds it set looks the channel up again.</summary>
    public bool IsRemoved { get; private set; }

    /// <summary>
    /// Guarded by Lock. Set by the first send or subscribe. A channel made only so that a blocking
    /// receive has somewhere to wait is not listed until then (SPEC: created on first send or subscribe).
    /// </summary>
    public bool IsListed { get; private set; }

    /// <summary>Guarded by Lock. Seq of the newest message.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Guarded by Lock. Receivers currently waiting for a message.</summary>
    public int WaitingReceivers { get; private set; }

    // Counters: written only under Lock; read under it, or by ReadFigures without it (see there).
    private long _sent;
    private long _consumed;
    private long _expired;
    private long _dropped;
    private long _delivered;

    public long Sent => _sent;

    public long Consumed => _consumed;

    public long Expired => _expired;

    public long Dropped => _dropped;

    public long Delivered => _delivered;

    /// <summary>
    /// Reads the channel's figures for stats, taking the lock only when the backlog may hold an
    /// expired message (to prune it first). Otherwise a benign race, by design: a send or receive on
    /// another thread may be half done, so the figures of a busy channel may disagree by the operation
    /// in flight; each value is one the field really held (aligned reads of a reference, an int or,
    /// with Volatile.Read, a long are atomic), and at any quiescent point they are exact.
    /// </summary>
    public ChannelStats ReadFigures(long nowMs)
    {
        if (nowMs >= Volatile.Read(ref _earliestExpiry))
        {
            lock (Lock)
            {
                PruneExpiredUnsynchronized(nowMs);
            }
        }

        return new ChannelStats(
            Epoch,
            _backlog.Count,
            Volatile.Read(ref _subscriptions).Length,
            Volatile.Read(ref _sent),
            Volatile.Read(ref _consumed),
            Volatile.Read(ref _expired),
            Volatile.Read(ref _dropped))
        {
            Delivered = Volatile.Read(ref _delivered),
            Leases = ReadLeaseFigures(),
        };
    }

    public int CountUnsynchronized => _backlog.Count;

    public int SubscriptionCountUnsynchronized => _subscriptions.Length;

    public bool IsIdleUnsynchronized => _backlog.Count == 0 && _subscriptions.Length == 0 && WaitingReceivers == 0 && _inFlight == 0;

    /// <summary>
    /// Appends a new message, evicting the oldest when full, and copies it to every subscription.
    /// Returns the message, or null (changing nothing) when its bytes do not fit the budget.
    /// <paramref name="deliveredTo"/> counts subscriptions, and <paramref name="wake"/> collects
    /// signals that the caller must complete after releasing the lock.
    /// </summary>
    public QueueMessage? TryAppendUnsynchronized(string type, JsonPayload payload, int ttl, long nowMs, ref WakeList wake, out int deliveredTo, string? replyTo = null, string? correlationId = null, bool force = false)
    {
        AssertLocked();
        deliveredTo = 0;
        PruneExpiredUnsynchronized(nowMs);

        // Only the difference between the new payload and the one it evicts touches the shared budget:
        // a full channel of same-sized messages sends without writing the shared counter at all.
        var full = _backlog.Count >= _capacity;
        var delta = (long)payload.Length - (full ? _backlog.Peek().Payload.Length : 0);
        if (delta > 0 && !force && !_budget.TryReserve(delta))
        {
            return null;
        }

        if (force && delta > 0)
        {
            // A dead letter (force) was stored and acknowledged before: it is kept over the cap, as a put-back is.
            _budget.Force(delta);
        }

        _budget.Release(-Math.Min(delta, 0));
        var message = new QueueMessage(MessageIdGenerator.Next(nowMs), Name, ++LastSeq, type, payload, nowMs, ttl) { ReplyTo = replyTo, CorrelationId = correlationId };
        _sent++;
        IsListed = true;
        if (full)
        {
            _backlog.Dequeue();
            _dropped++;
            if (_expiryOrdered)
            {
                _earliestExpiry = _backlog.Count == 0 ? long.MaxValue : _backlog.Peek().ExpiresAtMs;
            }
        }

        _backlog.Enqueue(message);
        var expiry = message.ExpiresAtMs;
        if (expiry < _lastExpiry)
        {
            _expiryOrdered = false;
        }

        _lastExpiry = expiry;
        if (expiry < _earliestExpiry)
        {
            _earliestExpiry = expiry;
        }

        var subscriptions = _subscriptions;
        foreach (var subscription in subscriptions)
        {
            wake.Add(subscription.EnqueueUnsynchronized(message));
        }

        deliveredTo = subscriptions.Length + FanOutToPatternsUnsynchronized(message, ref wake);
        _delivered += deliveredTo;
        if (_arrival is not null)
        {
            // Written only when set, so a send without waiters does not dirty this line for readers of the field.
            wake.Add(_arrival);
            _arrival = null;
        }

        return message;
    }

    /// <summary>Moves (or, peeking, copies) up to <paramref name="limit"/> unexpired messages into <paramref name="into"/>.</summary>
    public int TakeUnsynchronized(int limit, bool peek, long nowMs, ICollection<QueueMessage> into)
    {
        AssertLocked();
        PruneExpiredUnsynchronized(nowMs);
        var taken = 0;
        if (peek)
        {
            foreach (var message in _backlog)
            {
                if (taken == limit)
                {
                    break;
                }

                if (!message.IsExpiredAt(nowMs))
                {
                    into.Add(message);
                    taken++;
                }
            }

            return taken;
        }

        long freed = 0;
        while (taken < limit && _backlog.TryDequeue(out var message))
        {
            freed += message.Payload.Length;
            if (message.IsExpiredAt(nowMs))
            {
                _expired++;
                continue;
            }

            into.Add(message);
            taken++;
        }

        _consumed += taken;
        _budget.Release(freed);
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

    /// <summary>
    /// Puts messages that a consuming receive took back at the head of the backlog, in their order (see
    /// <see cref="IMessageQueue.PutBack"/>). Expired ones are counted as expired; if the backlog filled
    /// meanwhile, the returned messages are its oldest and are dropped (counted) until it fits. Their bytes are
    /// reserved without the budget check: they were stored and acknowledged before. When
    /// <paramref name="transferred"/>, they come from a removed incarnation of this channel and count as sent
    /// here (the caller takes them out of the retired totals), and <see cref="LastSeq"/> is raised past them so
    /// no seq is used twice; otherwise the take's consumed count is undone. A waiting receiver is woken
    /// through <paramref name="wake"/>.
    /// </summary>
    public PutBackResult RestoreUnsynchronized(IReadOnlyList<QueueMessage> messages, long nowMs, bool transferred, ref WakeList wake)
    {
        AssertLocked();
        PruneExpiredUnsynchronized(nowMs);
        var (expired, overflow, bytes) = HeadReturn.Put(_backlog, messages, _capacity, nowMs);
        _budget.Force(bytes);
        if (transferred)
        {
            _sent += messages.Count;
            LastSeq = messages.Count == 0 ? LastSeq : Math.Max(LastSeq, messages.Max(m => m.Seq));
        }
        else
        {
            _consumed -= messages.Count;
        }

        _expired += expired;
        _dropped += overflow;
        IsListed = true;
        RecomputeExpiryTrackingUnsynchronized();
        var restored = messages.Count - expired - overflow;
        if (restored > 0 && _arrival is not null)
        {
            wake.Add(_arrival);
            _arrival = null;
        }

        return new PutBackResult(restored, expired, overflow);
    }

    /// <summary>Copies the newest <paramref name="limit"/> messages into <paramref name="into"/>, oldest of them first.</summary>
    public int PeekNewestUnsynchronized(int limit, long nowMs, ICollection<QueueMessage> into)
    {
        AssertLocked();

        // After pruning no expired message is left anywhere in the backlog (see PruneExpiredUnsynchronized).
        PruneExpiredUnsynchronized(nowMs);
        var skip = Math.Max(0, _backlog.Count - limit);
        var taken = 0;
        foreach (var message in _backlog)
        {
            if (skip > 0)
            {
                skip--;
                continue;
            }

            into.Add(message);
            taken++;
        }

        return taken;
    }

    /// <summary>Removes every expired message (not only the head); returns how many.</summary>
    public int PruneExpiredUnsynchronized(long nowMs)
    {
        AssertLocked();
        if (nowMs < _earliestExpiry)
        {
            return 0;
        }

        var removed = 0;
        long freed = 0;
        if (_expiryOrdered)
        {
            // Expiry times are non-decreasing, so the expired messages are exactly a prefix.
            while (_backlog.TryPeek(out var head) && head.IsExpiredAt(nowMs))
            {
                _backlog.Dequeue();
                freed += head.Payload.Length;
                removed++;
            }
        }
        else
        {
            // Mixed TTLs: compact the whole backlog once and learn whether it is ordered again.
            var count = _backlog.Count;
            _lastExpiry = long.MinValue;
            _expiryOrdered = true;
            for (var i = 0; i < count; i++)
            {
                var message = _backlog.Dequeue();
                if (message.IsExpiredAt(nowMs))
                {
                    freed += message.Payload.Length;
                    removed++;
                    continue;
                }

                _backlog.Enqueue(message);
                _expiryOrdered &= message.ExpiresAtMs >= _lastExpiry;
                _lastExpiry = message.ExpiresAtMs;
            }
        }

        _expired += removed;
        _budget.Release(freed);
        if (_backlog.Count == 0)
        {
            ResetExpiryTrackingUnsynchronized();
        }
        else
        {
            _earliestExpiry = _expiryOrdered ? _backlog.Peek().ExpiresAtMs : MinExpiryUnsynchronized();
        }

        return removed;
    }

    /// <summary>
    /// Copies the retained messages after <paramref name="sinceSeq"/> in <paramref name="epoch"/> into a new
    /// subscription's buffer (all of them when that is not this incarnation) and returns whether the replay is exact:
    /// the same incarnation and every seq in (<paramref name="sinceSeq"/>, <see cref="LastSeq"/>] retained (the rule
    /// of <see cref="ChannelEpoch"/>).
    /// </summary>
    public bool ReplayUnsynchronized(InMemorySubscription subscription, long sinceSeq, string? epoch, long nowMs)
    {
        AssertLocked();
        PruneExpiredUnsynchronized(nowMs);
        var same = ChannelEpoch.IsSameIncarnation(epoch, sinceSeq, Epoch, LastSeq);
        var after = same ? sinceSeq : 0;
        long replayed = 0;
        long previous = 0;
        var ascending = true;
        foreach (var message in _backlog)
        {
            if (message.Seq > after)
            {
                subscription.EnqueueUnsynchronized(message);
                replayed++;
            }

            ascending &= message.Seq > previous;
            previous = message.Seq;
        }

        if (!same || sinceSeq > LastSeq)
        {
            return false;
        }

        // In send order the seqs are distinct and at most LastSeq, so counting them is checking each one is there. Only
        // messages put back after cleanup removed their channel and a send made it again can break the order (they keep
        // their seqs): then count distinct seqs.
        return (ascending ? replayed : _backlog.Select(m => m.Seq).Where(seq => seq > sinceSeq && seq <= LastSeq).Distinct().LongCount()) == LastSeq - sinceSeq;
    }

    public void AddSubscriptionUnsynchronized(InMemorySubscription subscription)
    {
        AssertLocked();
        IsListed = true;
        _subscriptions = [.. _subscriptions, subscription];
    }

    public void RemoveSubscriptionUnsynchronized(InMemorySubscription subscription)
    {
        AssertLocked();
        var index = Array.IndexOf(_subscriptions, subscription);
        if (index < 0)
        {
            return;
        }

        _subscriptions = _subscriptions.Length == 1
            ? s_noSubscriptions
            : [.. _subscriptions.AsSpan(0, index), .. _subscriptions.AsSpan(index + 1)];
    }

    /// <summary>Registers a waiting receiver; the task completes at the next send. Pair with <see cref="EndWaitUnsynchronized"/>.</summary>
    public Task BeginWaitUnsynchronized()
    {
        AssertLocked();
        WaitingReceivers++;
        _arrival ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _arrival.Task;
    }

    public void EndWaitUnsynchronized()
    {
        AssertLocked();
        WaitingReceivers--;
    }

    public void MarkRemovedUnsynchronized()
    {
        AssertLocked();
        Debug.Assert(IsIdleUnsynchronized, "only an idle channel is removed");
        IsRemoved = true;
    }

    private long MinExpiryUnsynchronized()
    {
        var min = long.MaxValue;
        foreach (var message in _backlog)
        {
            min = Math.Min(min, message.ExpiresAtMs);
        }

        return min;
    }

    /// <summary>Rebuilds the expiry tracking from the whole backlog (after messages were put back at its head).</summary>
    private void RecomputeExpiryTrackingUnsynchronized()
    {
        ResetExpiryTrackingUnsynchronized();
        foreach (var message in _backlog)
        {
            var expiry = message.ExpiresAtMs;
            _expiryOrdered &= expiry >= _lastExpiry;
            _lastExpiry = expiry;
            _earliestExpiry = Math.Min(_earliestExpiry, expiry);
        }
    }

    private void ResetExpiryTrackingUnsynchronized()
    {
        _earliestExpiry = long.MaxValue;
        _expiryOrdered = true;
        _lastExpiry = long.MinValue;
    }

    [Conditional("DEBUG")]
    private void AssertLocked() => Debug.Assert(Lock.IsHeldByCurrentThread, "the channel lock must be held");
}
