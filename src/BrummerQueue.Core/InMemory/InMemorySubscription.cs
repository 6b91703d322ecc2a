using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// A subscription of the in-memory queue. Its buffer and state are guarded by the channel's lock
/// (<see cref="ChannelState.Lock"/>), the same lock a send holds while fanning out, so delivery is
/// in seq order without a second lock. Methods ending in <c>Unsynchronized</c> need that lock held.
/// </summary>
internal sealed class InMemorySubscription : Subscription
{
    private readonly ChannelState _channel;
    private readonly QueueClock _clock;

    // Guarded by _channel.Lock. Oldest first.
    private readonly Queue<QueueMessage> _buffer;

    // Guarded by _channel.Lock. Messages lost since the last read: buffer overflow or expiry while buffered.
    private long _dropped;

    // Guarded by _channel.Lock. Completed (outside the lock) by the next enqueue or by closing; shared by all waiters.
    private TaskCompletionSource? _signal;

    // Guarded by _channel.Lock. Waiters currently inside WaitToReadAsync; a subscription with one is never idle.
    private int _waiters;

    // Guarded by _channel.Lock. Last read or wait, Unix ms, for idle expiry.
    private long _lastActiveMs;

    // Written once by SetRecoveredUnsynchronized before the subscription is published; immutable after.
    private bool? _recovered;

    // Written under _channel.Lock; read without it by IsClosed (a stale false only delays noticing by one call).
    private volatile bool _closed;

    public InMemorySubscription(string id, ChannelState channel, string? owner, int bufferSize, QueueClock clock)
    {
        Id = id;
        _channel = channel;
        Owner = owner;
        BufferSize = bufferSize;
        _clock = clock;
        _buffer = new Queue<QueueMessage>(Math.Min(bufferSize, 16));
        _lastActiveMs = clock.NowMs();
    }

    public override string Epoch => _channel.Epoch;

    // Set once, under _channel.Lock, before the subscription is published (added to the channel and the map).
    public override bool? Recovered => _recovered;

    public override string Id { get; }

    public override string Channel => _channel.Name;

    public override string? Owner { get; }

    public override int BufferSize { get; }

    public override bool IsClosed => _closed;

    internal ChannelState ChannelState => _channel;

    public override bool TryRead([NotNullWhen(true)] out QueueMessage? message)
    {
        var now = NowMs();
        lock (_channel.Lock)
        {
            _lastActiveMs = now;
            return TryDequeueUnsynchronized(now, out message);
        }
    }

    public override long ReadBatch(int limit, ICollection<QueueMessage> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var now = NowMs();
        lock (_channel.Lock)
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
        lock (_channel.Lock)
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
        var now = NowMs();
        TaskCompletionSource? signal = null;
        PutBackResult result;
        lock (_channel.Lock)
        {
            if (_closed)
            {
                return new PutBackResult(0, 0, messages.Count);
            }

            var expired = 0;
            foreach (var message in messages)
            {
                expired += message.IsExpiredAt(now) ? 1 : 0;
            }

            // The buffer never holds more than BufferSize, so the overflow never exceeds what is returned.
            var existing = _buffer.Count;
            var overflow = Math.Max(0, existing + messages.Count - expired - BufferSize);
            var skip = overflow;
            foreach (var message in messages)
            {
                if (message.IsExpiredAt(now))
                {
                    continue;
                }

                if (skip > 0)
                {
                    skip--;
                    continue;
                }

                _buffer.Enqueue(message);
            }

            // The returned messages were appended after the existing ones: rotate the existing ones behind them.
            for (var i = 0; i < existing; i++)
            {
                _buffer.Enqueue(_buffer.Dequeue());
            }

            // Expiry while buffered and overflow both count as dropped for a subscription, as on the way in.
            _dropped += dropped + expired + overflow;
            result = new PutBackResult(messages.Count - expired - overflow, expired, overflow);
            if (result.Restored > 0)
            {
                signal = _signal;
                _signal = null;
            }
        }

        // The channel lock is released: wake the readers waiting for a message.
        signal?.TrySetResult();
        return result;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        WaitToReadAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Waits for a message, closing or the timeout. True: a message may be available (a competing
    /// reader of the same subscription may still take it first); false: closed or timed out.
    /// </summary>
    internal async ValueTask<bool> WaitToReadAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_channel.Lock)
        {
            if (HasUnexpiredHeadUnsynchronized(NowMs()))
            {
                return true;
            }

            if (_closed)
            {
                return false;
            }

            _waiters++;
            _lastActiveMs = NowMs();
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
            lock (_channel.Lock)
            {
                _waiters--;
                _lastActiveMs = NowMs();
            }
        }

        return !_closed || HasBufferedMessages();
    }

    /// <summary>Adds a message, dropping the oldest when full. Returns the signal to complete after the lock is released, if anyone waits.</summary>
    internal TaskCompletionSource? EnqueueUnsynchronized(QueueMessage message)
    {
        AssertLocked();
        if (_buffer.Count >= BufferSize)
        {
            _buffer.Dequeue();
            _dropped++;
        }

        _buffer.Enqueue(message);
        var signal = _signal;
        _signal = null;
        return signal;
    }

    /// <summary>Records the outcome of the since_seq replay; called once, before the subscription is published.</summary>
    internal void SetRecoveredUnsynchronized(bool recovered)
    {
        AssertLocked();
        _recovered = recovered;
    }

    /// <summary>Marks the subscription closed. Returns the signal to complete after the lock is released.</summary>
    internal TaskCompletionSource? CloseUnsynchronized()
    {
        AssertLocked();
        _closed = true;
        var signal = _signal;
        _signal = null;
        return signal;
    }

    internal bool IsIdleUnsynchronized(long nowMs, long idleMs)
    {
        AssertLocked();
        return _waiters == 0 && nowMs - _lastActiveMs >= idleMs;
    }

    private bool HasBufferedMessages()
    {
        lock (_channel.Lock)
        {
            return HasUnexpiredHeadUnsynchronized(NowMs());
        }
    }

    /// <summary>Drops expired messages at the head (counting them) and tells whether a readable one remains.</summary>
    private bool HasUnexpiredHeadUnsynchronized(long nowMs)
    {
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

    private long NowMs() => _clock.NowMs();

    [Conditional("DEBUG")]
    private void AssertLocked() => Debug.Assert(_channel.Lock.IsHeldByCurrentThread, "the channel lock must be held");
}
