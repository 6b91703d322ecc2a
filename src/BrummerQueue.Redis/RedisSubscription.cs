using System.Diagnostics.CodeAnalysis;
using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// A node's handle of a subscription whose buffer lives in Redis (a capped list under the channel's hash tag), so any
/// node can read it. The handle holds no messages: each read is one script that removes what it returns. Thread-safe:
/// <c>_closed</c> moves once from false to true (volatile); <c>_waiters</c> is Interlocked.
/// </summary>
internal sealed class RedisSubscription : Subscription
{
    private static readonly TimeSpan s_retryAfterFailure = TimeSpan.FromSeconds(1);

    private readonly RedisMessageQueue _queue;
    private readonly RedisKey[] _keys;
    private volatile bool _closed;

    // A wildcard subscription (Channel is its pattern): its buffer holds each blob followed by its channel's name.
    private readonly bool _pattern;

    // Interlocked: readers of this node waiting on this subscription (the sweeper marks it active for them).
    private int _waiters;

    public RedisSubscription(RedisMessageQueue queue, string id, string channel, string? owner, int bufferSize, string epoch, bool? recovered)
    {
        _queue = queue;
        Id = id;
        Channel = channel;
        Owner = owner;
        BufferSize = bufferSize;
        Epoch = epoch;
        Recovered = recovered;
        _keys = [queue.Keys.Subscription(channel, id), queue.Keys.Buffer(channel, id)];
        _pattern = ChannelPattern.IsPattern(channel);
    }

    public override string Id { get; }

    public override string Channel { get; }

    public override string? Owner { get; }

    public override int BufferSize { get; }

    public override string Epoch { get; }

    public override bool? Recovered { get; }

    public override bool IsClosed => _closed;

    /// <summary>True while a reader of this node waits on the subscription.</summary>
    internal bool IsWaitedOn => Volatile.Read(ref _waiters) > 0;

    /// <summary>
    /// Takes the oldest buffered message. While Redis cannot be reached it reads nothing (the message stays in Redis for the
    /// next read), so that a push reader rides out an outage; a request-style read (<see cref="IMessageQueue.ReceiveAsync"/>)
    /// refuses with <c>store_unavailable</c> instead.
    /// </summary>
    public override bool TryRead([NotNullWhen(true)] out QueueMessage? message)
    {
        var list = new List<QueueMessage>(1);
        var dropped = ReadQuietly(1, list);
        if (dropped > 0)
        {
            // TryRead hands out no dropped count: keep it for the next ReadBatch or TakeDropped.
            _queue.Call(() => _queue.Database.HashIncrement(_keys[0], "dropped", dropped));
        }

        message = list.Count > 0 ? list[0] : null;
        return message is not null;
    }

    /// <summary>Moves up to <paramref name="limit"/> messages into <paramref name="into"/>; like <see cref="TryRead"/>, reads nothing while Redis cannot be reached.</summary>
    public override long ReadBatch(int limit, ICollection<QueueMessage> into) => Math.Max(0, ReadQuietly(limit, into));

    /// <summary><see cref="ReadBatch"/> with the script awaited; like it, reads nothing while Redis cannot be reached.</summary>
    public override async ValueTask<long> ReadBatchAsync(int limit, ICollection<QueueMessage> into, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return Math.Max(0, await ReadAsync(limit, into).ConfigureAwait(false));
        }
        catch (QueueException e) when (e.Code == QueueErrorCodes.StoreUnavailable)
        {
            return 0;
        }
    }

    public override long TakeDropped()
    {
        var dropped = (long)_queue.Call(() => LuaScripts.TakeDropped.Evaluate(_queue.Database, [_keys[0]], []));
        if (dropped < 0)
        {
            MarkClosed();
            return 0;
        }

        return dropped;
    }

    public override PutBackResult PutBack(IReadOnlyList<QueueMessage> messages, long dropped)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0 && dropped == 0)
        {
            return PutBackResult.None;
        }

        var values = new RedisValue[2 + messages.Count];
        values[0] = _queue.NowMs();
        values[1] = dropped;
        for (var i = 0; i < messages.Count; i++)
        {
            values[2 + i] = _pattern ? MessageBlob.FullTagged(messages[i]) : MessageBlob.Full(messages[i]);
        }

        var result = _queue.Call(() => LuaScripts.PutBackSubscription.Evaluate(_queue.Database, _keys, values));
        _queue.Signals.Wake(Channel);
        return new PutBackResult((int)result[0], (int)result[1], (int)result[2]);
    }

    public override async ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _waiters);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // The signal is taken before looking, so an arrival after the look still wakes this wait.
                var arrival = _queue.Signals.Current(Channel);
                if (_closed)
                {
                    return false;
                }

                int state;
                try
                {
                    state = (int)await _queue.CallAsync(() => LuaScripts.PeekSubscription.EvaluateAsync(_queue.Database, _keys, [_queue.NowMs(), _queue.ReadingLease(_queue.NowMs())])).ConfigureAwait(false);
                }
                catch (QueueException e) when (e.Code == QueueErrorCodes.StoreUnavailable)
                {
                    // A push reader rides out an outage: the messages wait in Redis, and the reconnect wakes every
                    // waiter (ChannelSignals.WakeAll); a slow Redis is asked again after a second.
                    await WaitQuietlyAsync(arrival, s_retryAfterFailure, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (state < 0)
                {
                    MarkClosed();
                    return false;
                }

                if (state > 0)
                {
                    return true;
                }

                await arrival.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    private async Task WaitQuietlyAsync(Task arrival, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await arrival.WaitAsync(timeout, _queue.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    internal void BeginWait() => Interlocked.Increment(ref _waiters);

    internal void EndWait() => Interlocked.Decrement(ref _waiters);

    /// <summary>Marks the handle closed (unsubscribed here or on another node, or removed by cleanup) and wakes its readers.</summary>
    internal void MarkClosed()
    {
        _closed = true;
        _queue.Signals.Wake(Channel);
    }

    private long ReadQuietly(int limit, ICollection<QueueMessage> into)
    {
        try
        {
            return Read(limit, into);
        }
        catch (QueueException e) when (e.Code == QueueErrorCodes.StoreUnavailable)
        {
            return 0;
        }
    }

    /// <summary>One read script: up to <paramref name="limit"/> messages into <paramref name="into"/>; returns the dropped count, or -1 when closed.</summary>
    internal long Read(int limit, ICollection<QueueMessage> into) =>
        Decode(_queue.Call(() => LuaScripts.ReadSubscription.Evaluate(_queue.Database, _keys, [_queue.NowMs(), limit])), into);

    /// <summary><see cref="Read"/> with the script awaited.</summary>
    internal async Task<long> ReadAsync(int limit, ICollection<QueueMessage> into) =>
        Decode(await _queue.CallAsync(() => LuaScripts.ReadSubscription.EvaluateAsync(_queue.Database, _keys, [_queue.NowMs(), limit])).ConfigureAwait(false), into);

    private long Decode(RedisResult result, ICollection<QueueMessage> into)
    {
        var dropped = (long)result[0];
        if (dropped < 0)
        {
            MarkClosed();
            return -1;
        }

        for (var i = 1; i < result.Length; i++)
        {
            into.Add(_pattern ? MessageBlob.DecodeTagged((RedisValue)result[i]) : MessageBlob.Decode(Channel, (RedisValue)result[i]));
        }

        return dropped;
    }
}
