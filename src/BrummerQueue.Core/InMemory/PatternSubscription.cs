using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// A wildcard subscription of the in-memory queue (<see cref="ChannelPattern"/>): one bounded buffer fed by every matching
/// channel. It spans channels, so unlike <see cref="InMemorySubscription"/> its buffer has its own lock, <c>_lock</c>, a leaf:
/// a send takes it inside its channel's lock (lock order: a channel lock, then <c>_lock</c>; nothing is locked inside it), so each
/// channel's messages enter in that channel's seq order. Every mutable field is guarded by <c>_lock</c>, except
/// <c>_closed</c> (written under it, read without it: a stale false only delays noticing by one call).
/// </summary>
internal sealed class PatternSubscription : Subscription
{
    private readonly QueueClock _clock;
    private readonly Lock _lock = new();

    // Guarded by _lock. Oldest first; per channel in seq order.
    private readonly Queue<QueueMessage> _buffer;

    // Guarded by _lock. Messages lost since the last read: buffer overflow or expiry while buffered.
    private long _dropped;

    // Guarded by _lock. Completed (outside the lock) by the next enqueue or by closing; shared by all waiters.
    private TaskCompletionSource? _signal;

    // Guarded by _lock. Waiters currently inside WaitToReadAsync; a subscription with one is never idle.
    private int _waiters;

    // Guarded by _lock. Last read or wait, Unix ms, for idle expiry.
    private long _lastActiveMs;

    private volatile bool _closed;

    public PatternSubscription(string id, string pattern, string? owner, int bufferSize, QueueClock clock)
    {
        Id = id;
        Channel = pattern;
        Owner = owner;
        BufferSize = bufferSize;
        _clock = clock;
        _buffer = new Queue<QueueMessage>(Math.Min(bufferSize, 16));
        CreatedAtMs = clock.NowMs();
        _lastActiveMs = CreatedAtMs;
    }

    /// <summary>When it was made, Unix ms.</summary>
    internal long CreatedAtMs { get; }

    public override string Id { get; }

    /// <summary>The pattern (a pattern subscription has no single channel).</summary>
    public override string Channel { get; }

    public override string? Owner { get; }

    /// <summary>Empty: a pattern spans channels, each with its own epoch (every message names its channel).</summary>
    public override string Epoch => string.Empty;

    /// <summary>Always null: a pattern subscription cannot resume (<c>since_seq</c> is refused).</summary>
    public override bool? Recovered => null;

    public override int BufferSize { get; }

    public override bool IsClosed => _closed;

    public override bool TryRead([NotNullWhen(true)] out QueueMessage? message)
    {
        var now = _clock.NowMs();
        lock (_lock)
        {
            _lastActiveMs = now;
            return TryDequeueUnsynchronized(now, out message);
        }
    }

    public override long ReadBatch(int limit, ICollection<QueueMessage> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var now = _clock.NowMs();
        lock (_lock)
        {
            _lastActiveMs = now;
            for (var i = 0; i < limit && TryDequeueUnsynchronized(now, out var message); i++)
            {
                into.Add(message);
            }

            var dropped = _dropped;
            _dropped = 0;
            return dropped;
        }
    }

    public override long TakeDropped()
    {
        lock (_lock)
        {
            var dropped = _dropped;
            _dropped = 0;
            return dropped;
        }
    }

    public override PutBackResult PutBack(IReadOnlyList<QueueMessage> messages, long dropped)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentOutOfRangeException.ThrowIfNegative(dropped);
        var now = _clock.NowMs();
        TaskCompletionSource? signal = null;
        PutBackResult result;
        lock (_lock)
        {
            if (_closed)
            {
                return new PutBackResult(0, 0, messages.Count);
            }

            var live = messages.Where(m => !m.IsExpiredAt(now)).ToList();
            var expired = messages.Count - live.Count;

            // The buffer never holds more than BufferSize, so the overflow never exceeds what is returned.
            var existing = _buffer.Count;
            var overflow = Math.Max(0, existing + live.Count - BufferSize);
            foreach (var message in live.Skip(overflow))
            {
                _buffer.Enqueue(message);
            }

            // The returned messages were appended after the existing ones: rotate the existing ones behind them.
            for (var i = 0; i < existing; i++)
            {
                _buffer.Enqueue(_buffer.Dequeue());
            }

            _dropped += dropped + expired + overflow;
            result = new PutBackResult(live.Count - overflow, expired, overflow);
            if (result.Restored > 0)
            {
                signal = _signal;
                _signal = null;
            }
        }

        // _lock is released: wake the readers waiting for a message.
        signal?.TrySetResult();
        return result;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        WaitToReadAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Waits for a message, closing or the timeout. True: a message may be available; false: closed or timed out.</summary>
    internal async ValueTask<bool> WaitToReadAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_lock)
        {
            if (HasUnexpiredHeadUnsynchronized(_clock.NowMs()))
            {
                return true;
            }

            if (_closed)
            {
                return false;
            }

            _waiters++;
            _lastActiveMs = _clock.NowMs();
            _signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = _signal.Task;
        }

        try
        {
            await signal.WaitAsync(timeout, _clock.Provider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            lock (_lock)
            {
                _waiters--;
                _lastActiveMs = _clock.NowMs();
            }
        }

        lock (_lock)
        {
            return !_closed || HasUnexpiredHeadUnsynchronized(_clock.NowMs());
        }
    }

    /// <summary>
    /// Adds a message of a matching channel, dropping the oldest when full; called by a send under its channel's lock. Returns
    /// false when closed (nothing added); <paramref name="signal"/> is the signal to complete after the channel lock is released.
    /// </summary>
    internal bool Enqueue(QueueMessage message, out TaskCompletionSource? signal)
    {
        lock (_lock)
        {
            signal = null;
            if (_closed)
            {
                return false;
            }

            if (_buffer.Count >= BufferSize)
            {
                _buffer.Dequeue();
                _dropped++;
            }

            _buffer.Enqueue(message);
            signal = _signal;
            _signal = null;
            return true;
        }
    }

    /// <summary>Marks it closed and wakes its readers (the caller holds no lock).</summary>
    internal void Close()
    {
        TaskCompletionSource? signal;
        lock (_lock)
        {
            _closed = true;
            signal = _signal;
            _signal = null;
        }

        // _lock is released: wake readers so they see the subscription closed.
        signal?.TrySetResult();
    }

    internal bool IsIdle(long nowMs, long idleMs)
    {
        lock (_lock)
        {
            return _waiters == 0 && nowMs - _lastActiveMs >= idleMs;
        }
    }

    /// <summary>Its figures for <see cref="QueueStats.Subscriptions"/> (its pattern as the channel); <paramref name="idleMs"/> is the idle limit.</summary>
    internal SubscriptionStats ReadStats(long idleMs)
    {
        lock (_lock)
        {
            return new SubscriptionStats(
                Id,
                Channel,
                Owner,
                DateTimeOffset.FromUnixTimeMilliseconds(CreatedAtMs),
                DateTimeOffset.FromUnixTimeMilliseconds(_lastActiveMs),
                _buffer.Count,
                _dropped,
                _waiters > 0,
                _waiters > 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(_lastActiveMs + idleMs));
        }
    }

    private bool HasUnexpiredHeadUnsynchronized(long nowMs)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "_lock must be held");
        while (_buffer.TryPeek(out var head) && head.IsExpiredAt(nowMs))
        {
            _buffer.Dequeue();
            _dropped++;
        }

        return _buffer.Count > 0;
    }

    private bool TryDequeueUnsynchronized(long nowMs, [NotNullWhen(true)] out QueueMessage? message)
    {
        while (_buffer.TryDequeue(out message))
        {
            if (!message.IsExpiredAt(nowMs))
            {
                return true;
            }

            _dropped++;
        }

        return false;
    }
}
