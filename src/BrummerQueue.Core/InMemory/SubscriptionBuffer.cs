using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The bounded buffer behind both in-memory subscription kinds (SPEC §1 "Subscription"): full, it drops its oldest message;
/// it drops expired messages as it reaches them; both count as dropped until the next read takes the count. It hands out up
/// to a limit oldest first, takes read messages back to its head in their order ("reads never lose"), and keeps the figures
/// for stats and idle expiry. It takes no lock: every member except <see cref="Capacity"/>, <see cref="CreatedAtMs"/> and
/// <see cref="IsClosed"/> runs with its guard held, the lock given at construction. For an <see cref="InMemorySubscription"/>
/// that is its channel's <see cref="ChannelState.Lock"/>, the lock a send holds while fanning out, so delivery is in seq
/// order without a second lock; for a <see cref="PatternSubscription"/>, which receives from many channels, its own leaf lock
/// (taken inside a channel's lock by a send). A signal it hands back is completed by the caller after the guard is released.
/// </summary>
internal sealed class SubscriptionBuffer
{
    // Only asserted to be held; never taken here.
    private readonly Lock _guard;

    // Guarded by _guard. Oldest first (a pattern subscription's: per channel in seq order).
    private readonly Queue<QueueMessage> _messages;

    // Guarded by _guard. Messages lost since the last read: overflow or expiry while buffered.
    private long _dropped;

    // Guarded by _guard. Completed (outside the guard) by the next enqueue, restoring put-back or close; shared by all waiters.
    private TaskCompletionSource? _signal;

    // Guarded by _guard. Waiters between BeginWaitUnsynchronized and EndWaitUnsynchronized; a buffer with one is never idle.
    private int _waiters;

    // Guarded by _guard. Last read or wait, Unix ms, for idle expiry.
    private long _lastActiveMs;

    // Written under _guard; read without it by IsClosed (a stale false only delays noticing by one call).
    private volatile bool _closed;

    public SubscriptionBuffer(int capacity, long nowMs, Lock guard)
    {
        Capacity = capacity;
        CreatedAtMs = nowMs;
        _lastActiveMs = nowMs;
        _guard = guard;
        _messages = new Queue<QueueMessage>(Math.Min(capacity, 16));
    }

    /// <summary>The most messages it holds (the subscription's buffer size).</summary>
    public int Capacity { get; }

    /// <summary>When it was made, Unix ms.</summary>
    public long CreatedAtMs { get; }

    public bool IsClosed => _closed;

    /// <summary>Takes the oldest unexpired message, dropping (and counting) the expired ones before it.</summary>
    public bool TryReadUnsynchronized(long nowMs, [NotNullWhen(true)] out QueueMessage? message)
    {
        AssertGuarded();
        _lastActiveMs = nowMs;
        return TryDequeueUnsynchronized(nowMs, out message);
    }

    /// <summary>Moves up to <paramref name="limit"/> unexpired messages into <paramref name="into"/>, oldest first; returns the dropped count and resets it.</summary>
    public long ReadBatchUnsynchronized(int limit, ICollection<QueueMessage> into, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(into);
        AssertGuarded();
        _lastActiveMs = nowMs;
        for (var i = 0; i < limit && TryDequeueUnsynchronized(nowMs, out var message); i++)
        {
            into.Add(message);
        }

        return TakeDroppedUnsynchronized();
    }

    public long TakeDroppedUnsynchronized()
    {
        AssertGuarded();
        var dropped = _dropped;
        _dropped = 0;
        return dropped;
    }

    /// <summary>
    /// <see cref="Subscription.PutBack"/>: returns <paramref name="messages"/> to the head in their order and adds
    /// <paramref name="dropped"/> back; the expired ones and the overflow (the oldest, when it filled meanwhile) count as
    /// dropped, as on the way in. Closed, it takes nothing. <paramref name="signal"/>: the readers to wake, if any came back.
    /// </summary>
    public PutBackResult PutBackUnsynchronized(IReadOnlyList<QueueMessage> messages, long dropped, long nowMs, out TaskCompletionSource? signal)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentOutOfRangeException.ThrowIfNegative(dropped);
        AssertGuarded();
        signal = null;
        if (_closed)
        {
            return new PutBackResult(0, 0, messages.Count);
        }

        var (expired, overflow, _) = HeadReturn.Put(_messages, messages, Capacity, nowMs);
        _dropped += dropped + expired + overflow;
        var result = new PutBackResult(messages.Count - expired - overflow, expired, overflow);
        if (result.Restored > 0)
        {
            signal = TakeSignalUnsynchronized();
        }

        return result;
    }

    /// <summary>Adds a message, dropping the oldest when full; false when closed (nothing added). <paramref name="signal"/>: the readers to wake.</summary>
    public bool EnqueueUnsynchronized(QueueMessage message, out TaskCompletionSource? signal)
    {
        AssertGuarded();
        signal = null;
        if (_closed)
        {
            return false;
        }

        if (_messages.Count >= Capacity)
        {
            _messages.Dequeue();
            _dropped++;
        }

        _messages.Enqueue(message);
        signal = TakeSignalUnsynchronized();
        return true;
    }

    /// <summary>Marks it closed; returns the readers to wake so they see it closed.</summary>
    public TaskCompletionSource? CloseUnsynchronized()
    {
        AssertGuarded();
        _closed = true;
        return TakeSignalUnsynchronized();
    }

    /// <summary>
    /// Starts a wait for a message. Null when there is nothing to wait for, with <paramref name="ready"/> true when a message is
    /// readable, false when closed; otherwise counts a waiter (so it is not idle) and returns what the next enqueue, restoring
    /// put-back or close completes. Every wait so started ends with <see cref="EndWaitUnsynchronized"/>.
    /// </summary>
    public Task? BeginWaitUnsynchronized(long nowMs, out bool ready)
    {
        ready = HasUnexpiredHeadUnsynchronized(nowMs);
        if (ready || _closed)
        {
            return null;
        }

        _waiters++;
        _lastActiveMs = nowMs;
        _signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _signal.Task;
    }

    public void EndWaitUnsynchronized(long nowMs)
    {
        AssertGuarded();
        _waiters--;
        _lastActiveMs = nowMs;
    }

    /// <summary>Drops expired messages at the head (counting them) and tells whether a readable one remains.</summary>
    public bool HasUnexpiredHeadUnsynchronized(long nowMs)
    {
        AssertGuarded();
        while (_messages.TryPeek(out var head) && head.IsExpiredAt(nowMs))
        {
            _messages.Dequeue();
            _dropped++;
        }

        return _messages.Count > 0;
    }

    public bool IsIdleUnsynchronized(long nowMs, long idleMs)
    {
        AssertGuarded();
        return _waiters == 0 && nowMs - _lastActiveMs >= idleMs;
    }

    /// <summary>The figures of <paramref name="subscription"/> (whose buffer this is) for <see cref="QueueStats.Subscriptions"/>; <paramref name="idleMs"/> is the idle limit.</summary>
    public SubscriptionStats ReadStatsUnsynchronized(Subscription subscription, long idleMs)
    {
        AssertGuarded();
        return new SubscriptionStats(
            subscription.Id,
            subscription.Channel,
            subscription.Owner,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAtMs),
            DateTimeOffset.FromUnixTimeMilliseconds(_lastActiveMs),
            _messages.Count,
            _dropped,
            _waiters > 0,
            _waiters > 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(_lastActiveMs + idleMs));
    }

    private TaskCompletionSource? TakeSignalUnsynchronized()
    {
        var signal = _signal;
        _signal = null;
        return signal;
    }

    private bool TryDequeueUnsynchronized(long nowMs, [NotNullWhen(true)] out QueueMessage? message)
    {
        while (_messages.TryDequeue(out message))
        {
            if (!message.IsExpiredAt(nowMs))
            {
                return true;
            }

            _dropped++;
        }

        return false;
    }

    [Conditional("DEBUG")]
    private void AssertGuarded() => Debug.Assert(_guard.IsHeldByCurrentThread, "the buffer's guard lock must be held");
}
