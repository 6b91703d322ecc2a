using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;

namespace BrummerQueue.Benchmarks.Baselines;

/// <summary>
/// The baseline every benchmark compares against: the straightforward design with the same
/// semantics as the engine — one <see cref="Lock"/> around a <c>Dictionary&lt;string, Queue&gt;</c> of
/// backlogs plus per-channel subscriber lists; per-channel seq; capacity with drop-oldest; a
/// retained-byte counter; TTL checked on read; the same argument rules, message type and id
/// generator as the engine, so the two do the same work and differ only in how they share it.
/// </summary>
internal sealed class MutexMessageStore(QueueOptions options, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MutexChannel> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MutexSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly long _startMs = time.GetUtcNow().ToUnixTimeMilliseconds();
    private long _bytes;

    public SendResult Send(string channel, MessageDraft draft)
    {
        var type = ArgumentRules.Type(draft.Type);
        var ttl = ArgumentRules.Ttl(draft.TtlSeconds, options);
        var payload = draft.Payload;
        var size = (long)payload.Length + channel.Length + type.Length + 200;
        if (size > options.MaxMessageBytes)
        {
            throw new QueueException(QueueErrorCodes.MessageTooLarge, "payload", "message too large");
        }

        var now = NowMs();
        lock (_lock)
        {
            if (_bytes + payload.Length > options.MaxTotalBytes)
            {
                throw new QueueException(QueueErrorCodes.QueueFull, null, "queue_full");
            }

            var state = GetOrCreateLocked(channel);
            var message = new QueueMessage(MessageIdGenerator.Next(now), state.Name, ++state.LastSeq, type, payload, now, ttl);
            state.Sent++;
            if (state.Backlog.Count >= options.ChannelCapacity)
            {
                _bytes -= state.Backlog.Dequeue().Payload.Length;
                state.Dropped++;
            }

            state.Backlog.Enqueue(message);
            _bytes += payload.Length;
            foreach (var subscription in state.Subscriptions)
            {
                subscription.EnqueueLocked(message);
            }

            return new SendResult(message, state.Subscriptions.Count);
        }
    }

    public int Receive(string channel, int limit, bool peek, ICollection<QueueMessage> into)
    {
        ArgumentRules.Limit(limit);
        var now = NowMs();
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var state))
            {
                return 0;
            }

            var taken = 0;
            if (peek)
            {
                foreach (var message in state.Backlog)
                {
                    if (taken == limit)
                    {
                        break;
                    }

                    if (!message.IsExpiredAt(now))
                    {
                        into.Add(message);
                        taken++;
                    }
                }

                return taken;
            }

            while (taken < limit && state.Backlog.TryDequeue(out var message))
            {
                _bytes -= message.Payload.Length;
                if (message.IsExpiredAt(now))
                {
                    state.Expired++;
                    continue;
                }

                into.Add(message);
                taken++;
            }

            state.Consumed += taken;
            return taken;
        }
    }

    public MutexSubscription Subscribe(string channel, int bufferSize)
    {
        var id = MessageIdGenerator.Next(NowMs()).ToString();
        lock (_lock)
        {
            var state = GetOrCreateLocked(channel);
            var subscription = new MutexSubscription(id, state, bufferSize, _lock, time);
            state.Subscriptions.Add(subscription);
            _subscriptions.Add(id, subscription);
            return subscription;
        }
    }

    public bool Unsubscribe(string subscriptionId)
    {
        lock (_lock)
        {
            if (!_subscriptions.Remove(subscriptionId, out var subscription))
            {
                return false;
            }

            subscription.Channel.Subscriptions.Remove(subscription);
            return true;
        }
    }

    public QueueStats GetStats()
    {
        var now = NowMs();
        var channels = new SortedDictionary<string, ChannelStats>(StringComparer.Ordinal);
        long messages = 0, sent = 0, consumed = 0, expired = 0, dropped = 0;
        lock (_lock)
        {
            foreach (var state in _channels.Values)
            {
                var live = 0;
                foreach (var message in state.Backlog)
                {
                    if (!message.IsExpiredAt(now))
                    {
                        live++;
                    }
                }

                var figures = new ChannelStats(string.Empty, live, state.Subscriptions.Count, state.Sent, state.Consumed, state.Expired, state.Dropped);
                channels[state.Name] = figures;
                messages += live;
                sent += state.Sent;
                consumed += state.Consumed;
                expired += state.Expired;
                dropped += state.Dropped;
            }

            return new QueueStats
            {
                TotalMessages = messages,
                TotalChannels = channels.Count,
                TotalSubscriptions = _subscriptions.Count,
                TotalBytes = _bytes,
                MessagesSent = sent,
                MessagesConsumed = consumed,
                MessagesExpired = expired,
                MessagesDropped = dropped,
                UptimeSeconds = (now - _startMs) / 1000,
                Channels = channels,
            };
        }
    }

    /// <summary>Removes every expired message from every backlog; returns how many.</summary>
    public long Sweep()
    {
        var now = NowMs();
        long removed = 0;
        lock (_lock)
        {
            foreach (var state in _channels.Values)
            {
                var count = state.Backlog.Count;
                for (var i = 0; i < count; i++)
                {
                    var message = state.Backlog.Dequeue();
                    if (message.IsExpiredAt(now))
                    {
                        _bytes -= message.Payload.Length;
                        state.Expired++;
                        removed++;
                    }
                    else
                    {
                        state.Backlog.Enqueue(message);
                    }
                }
            }
        }

        return removed;
    }

    private MutexChannel GetOrCreateLocked(string channel)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            ArgumentRules.Channel(channel);
            state = new MutexChannel(channel);
            _channels.Add(channel, state);
        }

        return state;
    }

    private long NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
