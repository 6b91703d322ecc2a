namespace BrummerQueue.Core.Tests.Model;

/// <summary>
/// A deliberately simple, sequential model of SPEC.md §1: lists instead of ring buffers, every
/// rule applied literally. Expired messages are removed (and counted) before any operation looks
/// at a channel, which is what "never returned" and "exact stats" require of the engine.
/// </summary>
internal sealed partial class QueueModel(int capacity, long maxBytes)
{
    private readonly SortedDictionary<string, ModelChannel> _channels = new(StringComparer.Ordinal);
    private long _retiredSent, _retiredConsumed, _retiredExpired, _retiredDropped, _retiredDelivered;

    public long NowMs { get; set; }

    public List<ModelSubscription> Subscriptions { get; } = [];

    /// <summary>Returns the stored seq, or null when refused with queue_full.</summary>
    public long? Send(string channel, int ttl, int bytes)
    {
        PruneAll();
        var total = _channels.Values.Sum(c => c.Backlog.Sum(m => (long)m.Bytes)) + LeasedBytes();
        var evicted = _channels.TryGetValue(channel, out var existing) && existing.Backlog.Count >= capacity ? existing.Backlog[0].Bytes : 0;

        // A send that does not grow the total is never refused (messages put back may hold the total above the cap).
        if (bytes > evicted && total - evicted + bytes > maxBytes)
        {
            return null;
        }

        var state = GetOrCreate(channel);
        if (state.Backlog.Count >= capacity)
        {
            state.Backlog.RemoveAt(0);
            state.Dropped++;
        }

        var message = new ModelMessage(++state.LastSeq, ttl == 0 ? long.MaxValue : NowMs + (ttl * 1000L), bytes) { Channel = channel, Id = ++_nextId, Ttl = ttl };
        state.Backlog.Add(message);
        state.Sent++;
        foreach (var subscription in Subscriptions.Where(s => !s.Closed && s.Receives(channel)))
        {
            subscription.Enqueue(message);
            state.Delivered++;
        }

        return message.Seq;
    }

    public List<long> Receive(string channel, int limit, bool peek)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            return [];
        }

        Prune(state);
        var taken = state.Backlog.Take(limit).ToList();
        if (!peek)
        {
            state.Backlog.RemoveRange(0, taken.Count);
            state.Consumed += taken.Count;
        }

        return [.. taken.Select(m => m.Seq)];
    }

    /// <summary>A consuming receive whose messages are held for a later put-back: the incarnation they came from and the messages.</summary>
    public (ModelChannel? Origin, List<ModelMessage> Messages) Take(string channel, int limit)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            return (null, []);
        }

        Prune(state);
        var taken = state.Backlog.Take(limit).ToList();
        state.Backlog.RemoveRange(0, taken.Count);
        state.Consumed += taken.Count;
        return (state, taken);
    }

    /// <summary>
    /// SPEC.md §1 "Reads never lose": the messages go back to the head in order; expired ones count as expired,
    /// overflowing ones (the returned are the oldest) as dropped; consumed is taken back. If cleanup removed the
    /// incarnation they came from, the live channel of that name (created if need be) takes them, counting them as
    /// sent, and the retired totals give them up; its last seq is raised past them.
    /// </summary>
    public (int Restored, int Expired, int Dropped) PutBack(string channel, ModelChannel origin, List<ModelMessage> messages)
    {
        if (messages.Count == 0)
        {
            return (0, 0, 0);
        }

        var transferred = !_channels.TryGetValue(channel, out var live) || !ReferenceEquals(live, origin);
        live = GetOrCreate(channel);
        Prune(live);
        var kept = messages.Where(m => NowMs < m.ExpiresAt).ToList();
        var expired = messages.Count - kept.Count;
        var overflow = Math.Max(0, live.Backlog.Count + kept.Count - capacity);
        live.Backlog.InsertRange(0, kept.Skip(overflow));
        if (transferred)
        {
            _retiredSent -= messages.Count;
            _retiredConsumed -= messages.Count;
            live.Sent += messages.Count;
            live.LastSeq = Math.Max(live.LastSeq, messages.Max(m => m.Seq));
        }
        else
        {
            live.Consumed -= messages.Count;
        }

        live.Expired += expired;
        live.Dropped += overflow;
        return (kept.Count - overflow, expired, overflow);
    }

    public ModelSubscription Subscribe(string channel, int bufferSize, long? sinceSeq)
    {
        var state = GetOrCreate(channel);
        Prune(state);
        var subscription = new ModelSubscription(channel, bufferSize);
        if (sinceSeq is { } since)
        {
            // SPEC.md §1 "Resume" without an epoch: a since_seq beyond the last seq belongs to an earlier incarnation.
            var after = since <= state.LastSeq ? since : 0;
            foreach (var message in state.Backlog.Where(m => m.Seq > after))
            {
                subscription.Enqueue(message);
            }

            var retained = state.Backlog.Select(m => m.Seq).ToHashSet();
            subscription.Recovered = since <= state.LastSeq && Enumerable.Range(1, (int)(state.LastSeq - since)).All(i => retained.Contains(since + i));
        }

        Subscriptions.Add(subscription);
        return subscription;
    }

    /// <summary>A wildcard subscription: it makes no channel and gets the messages of every matching one sent from now on.</summary>
    public ModelSubscription SubscribePattern(string pattern, int bufferSize)
    {
        var subscription = new ModelSubscription(pattern, bufferSize);
        Subscriptions.Add(subscription);
        return subscription;
    }

    public (List<long> Seqs, long Dropped) Read(ModelSubscription subscription, int limit)
    {
        var (messages, dropped) = ReadMessages(subscription, limit);
        return ([.. messages.Select(m => m.Seq)], dropped);
    }

    public (List<ModelMessage> Messages, long Dropped) ReadMessages(ModelSubscription subscription, int limit)
    {
        var messages = new List<ModelMessage>();
        while (messages.Count < limit && subscription.Buffer.Count > 0)
        {
            var message = subscription.Buffer.Dequeue();
            if (NowMs >= message.ExpiresAt)
            {
                subscription.Dropped++;
                continue;
            }

            messages.Add(message);
        }

        var dropped = subscription.Dropped;
        subscription.Dropped = 0;
        return (messages, dropped);
    }

    public static bool Unsubscribe(ModelSubscription subscription)
    {
        if (subscription.Closed)
        {
            return false;
        }

        subscription.Closed = true;
        return true;
    }

    public int Sweep()
    {
        PruneAll();
        var removed = 0;
        foreach (var (name, state) in _channels.ToList())
        {
            if (state.Backlog.Count == 0 && !Subscriptions.Any(s => !s.Closed && s.Channel == name) && !HasLeases(state))
            {
                _retiredLeases += state.Leases;
                _retiredSent += state.Sent;
                _retiredConsumed += state.Consumed;
                _retiredExpired += state.Expired;
                _retiredDropped += state.Dropped;
                _retiredDelivered += state.Delivered;
                _channels.Remove(name);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The model does not predict epochs (they are random): its figures carry this one and are compared without them.</summary>
    public const string NoEpoch = "";

    public List<ChannelInfo> ListChannels()
    {
        PruneAll();
        return [.. _channels.Select(kv => new ChannelInfo(kv.Key, NoEpoch, kv.Value.Backlog.Count, OpenSubscriptions(kv.Key), kv.Value.LastSeq))];
    }

    public (long Messages, long Bytes, long Sent, long Consumed, long Expired, long Dropped, long Delivered, int Subscriptions, Dictionary<string, ChannelStats> Channels) Stats()
    {
        PruneAll();
        var channels = _channels.ToDictionary(
            kv => kv.Key,
            kv => new ChannelStats(NoEpoch, kv.Value.Backlog.Count, OpenSubscriptions(kv.Key), kv.Value.Sent, kv.Value.Consumed, kv.Value.Expired, kv.Value.Dropped) { Delivered = kv.Value.Delivered, Leases = LeaseFiguresOf(kv.Value) });
        return (
            channels.Values.Sum(c => (long)c.Messages),
            _channels.Values.Sum(c => c.Backlog.Sum(m => (long)m.Bytes)) + LeasedBytes(),
            _retiredSent + channels.Values.Sum(c => c.Sent),
            _retiredConsumed + channels.Values.Sum(c => c.Consumed),
            _retiredExpired + channels.Values.Sum(c => c.Expired),
            _retiredDropped + channels.Values.Sum(c => c.Dropped),
            _retiredDelivered + channels.Values.Sum(c => c.Delivered),
            Subscriptions.Count(s => !s.Closed),
            channels);
    }

    private int OpenSubscriptions(string channel) => Subscriptions.Count(s => !s.Closed && s.Channel == channel);

    private ModelChannel GetOrCreate(string channel)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            state = new ModelChannel();
            _channels[channel] = state;
        }

        return state;
    }

    private long PruneAll() => _channels.Values.Sum(Prune);

    private long Prune(ModelChannel state)
    {
        var removed = state.Backlog.RemoveAll(m => NowMs >= m.ExpiresAt);
        state.Expired += removed;
        return removed;
    }
}
