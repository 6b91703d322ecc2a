using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// A wildcard subscription of the in-memory queue (<see cref="ChannelPattern"/>): one <see cref="SubscriptionBuffer"/> fed by
/// every matching channel. It spans channels, so unlike <see cref="InMemorySubscription"/> its buffer is guarded by its own
/// lock, <c>_lock</c>, a leaf: a send takes it inside its channel's lock (lock order: a channel lock, then <c>_lock</c>; nothing
/// is locked inside it), so each channel's messages enter in that channel's seq order.
/// </summary>
internal sealed class PatternSubscription : Subscription
{
    private readonly QueueClock _clock;
    private readonly Lock _lock = new();
    private readonly SubscriptionBuffer _buffer;

    public PatternSubscription(string id, string pattern, string? owner, int bufferSize, QueueClock clock)
    {
        Id = id;
        Channel = pattern;
        Owner = owner;
        _clock = clock;
        _buffer = new SubscriptionBuffer(bufferSize, clock.NowMs(), _lock);
    }

    public override string Id { get; }

    /// <summary>The pattern (a pattern subscription has no single channel).</summary>
    public override string Channel { get; }

    public override string? Owner { get; }

    /// <summary>Empty: a pattern spans channels, each with its own epoch (every message names its channel).</summary>
    public override string Epoch => string.Empty;

    /// <summary>Always null: a pattern subscription cannot resume (<c>since_seq</c> is refused).</summary>
    public override bool? Recovered => null;

    public override int BufferSize => _buffer.Capacity;

    public override bool IsClosed => _buffer.IsClosed;

    public override bool TryRead([NotNullWhen(true)] out QueueMessage? message)
    {
        var now = _clock.NowMs();
        lock (_lock)
        {
            return _buffer.TryReadUnsynchronized(now, out message);
        }
    }

    public override long ReadBatch(int limit, ICollection<QueueMessage> into)
    {
        var now = _clock.NowMs();
        lock (_lock)
        {
            return _buffer.ReadBatchUnsynchronized(limit, into, now);
        }
    }

    public override long TakeDropped()
    {
        lock (_lock)
        {
            return _buffer.TakeDroppedUnsynchronized();
        }
    }

    public override PutBackResult PutBack(IReadOnlyList<QueueMessage> messages, long dropped)
    {
        var now = _clock.NowMs();
        TaskCompletionSource? signal;
        PutBackResult result;
        lock (_lock)
        {
            result = _buffer.PutBackUnsynchronized(messages, dropped, now, out signal);
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
        Task? signal;
        bool ready;
        lock (_lock)
        {
            signal = _buffer.BeginWaitUnsynchronized(_clock.NowMs(), out ready);
        }

        if (signal is null)
        {
            return ready;
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
                _buffer.EndWaitUnsynchronized(_clock.NowMs());
            }
        }

        lock (_lock)
        {
            return !_buffer.IsClosed || _buffer.HasUnexpiredHeadUnsynchronized(_clock.NowMs());
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
            return _buffer.EnqueueUnsynchronized(message, out signal);
        }
    }

    /// <summary>Marks it closed and wakes its readers (the caller holds no lock).</summary>
    internal void Close()
    {
        TaskCompletionSource? signal;
        lock (_lock)
        {
            signal = _buffer.CloseUnsynchronized();
        }

        // _lock is released: wake readers so they see the subscription closed.
        signal?.TrySetResult();
    }

    internal bool IsIdle(long nowMs, long idleMs)
    {
        lock (_lock)
        {
            return _buffer.IsIdleUnsynchronized(nowMs, idleMs);
        }
    }

    /// <summary>Its figures for <see cref="QueueStats.Subscriptions"/> (its pattern as the channel); <paramref name="idleMs"/> is the idle limit.</summary>
    internal SubscriptionStats ReadStats(long idleMs)
    {
        lock (_lock)
        {
            return _buffer.ReadStatsUnsynchronized(this, idleMs);
        }
    }
}
