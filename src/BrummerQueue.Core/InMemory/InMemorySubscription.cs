using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// A subscription of the in-memory queue to one channel. Its <see cref="SubscriptionBuffer"/> and state are guarded by the
/// channel's lock (<see cref="ChannelState.Lock"/>), the same lock a send holds while fanning out, so delivery is in seq
/// order without a second lock. Methods ending in <c>Unsynchronized</c> need that lock held.
/// </summary>
internal sealed class InMemorySubscription : Subscription
{
    private readonly ChannelState _channel;
    private readonly QueueClock _clock;
    private readonly SubscriptionBuffer _buffer;

    // Written once by SetRecoveredUnsynchronized before the subscription is published; immutable after.
    private bool? _recovered;

    public InMemorySubscription(string id, ChannelState channel, string? owner, int bufferSize, QueueClock clock)
    {
        Id = id;
        _channel = channel;
        Owner = owner;
        _clock = clock;
        _buffer = new SubscriptionBuffer(bufferSize, clock.NowMs(), channel.Lock);
    }

    public override string Epoch => _channel.Epoch;

    // Set once, under _channel.Lock, before the subscription is published (added to the channel and the map).
    public override bool? Recovered => _recovered;

    public override string Id { get; }

    public override string Channel => _channel.Name;

    public override string? Owner { get; }

    public override int BufferSize => _buffer.Capacity;

    public override bool IsClosed => _buffer.IsClosed;

    internal ChannelState ChannelState => _channel;

    public override bool TryRead([NotNullWhen(true)] out QueueMessage? message)
    {
        var now = NowMs();
        lock (_channel.Lock)
        {
            return _buffer.TryReadUnsynchronized(now, out message);
        }
    }

    public override long ReadBatch(int limit, ICollection<QueueMessage> into)
    {
        var now = NowMs();
        lock (_channel.Lock)
        {
            return _buffer.ReadBatchUnsynchronized(limit, into, now);
        }
    }

    public override long TakeDropped()
    {
        lock (_channel.Lock)
        {
            return _buffer.TakeDroppedUnsynchronized();
        }
    }

    public override PutBackResult PutBack(IReadOnlyList<QueueMessage> messages, long dropped)
    {
        var now = NowMs();
        TaskCompletionSource? signal;
        PutBackResult result;
        lock (_channel.Lock)
        {
            result = _buffer.PutBackUnsynchronized(messages, dropped, now, out signal);
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
        Task? signal;
        bool ready;
        lock (_channel.Lock)
        {
            signal = _buffer.BeginWaitUnsynchronized(NowMs(), out ready);
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
            lock (_channel.Lock)
            {
                _buffer.EndWaitUnsynchronized(NowMs());
            }
        }

        return !IsClosed || HasBufferedMessages();
    }

    /// <summary>Adds a message, dropping the oldest when full. Returns the signal to complete after the lock is released, if anyone waits.</summary>
    internal TaskCompletionSource? EnqueueUnsynchronized(QueueMessage message)
    {
        // Never closed here: unsubscribing closes it and detaches it from the channel under the same lock.
        _buffer.EnqueueUnsynchronized(message, out var signal);
        return signal;
    }

    /// <summary>Records the outcome of the since_seq replay; called once, before the subscription is published.</summary>
    internal void SetRecoveredUnsynchronized(bool recovered)
    {
        Debug.Assert(_channel.Lock.IsHeldByCurrentThread, "the channel lock must be held");
        _recovered = recovered;
    }

    /// <summary>Marks the subscription closed. Returns the signal to complete after the lock is released.</summary>
    internal TaskCompletionSource? CloseUnsynchronized() => _buffer.CloseUnsynchronized();

    internal bool IsIdleUnsynchronized(long nowMs, long idleMs) => _buffer.IsIdleUnsynchronized(nowMs, idleMs);

    /// <summary>Its figures for <see cref="QueueStats.Subscriptions"/>; <paramref name="idleMs"/> is the idle limit.</summary>
    internal SubscriptionStats ReadStatsUnsynchronized(long idleMs) => _buffer.ReadStatsUnsynchronized(this, idleMs);

    private bool HasBufferedMessages()
    {
        lock (_channel.Lock)
        {
            return _buffer.HasUnexpiredHeadUnsynchronized(NowMs());
        }
    }

    private long NowMs() => _clock.NowMs();
}
