namespace BrummerQueue.Core.InMemory;

internal sealed partial class InMemoryMessageQueue
{
    // Serializes channel removal with GetStats (see the class comment). Guards the _retired* fields.
    private readonly Lock _retireLock = new();
    private long _retiredSent;
    private long _retiredConsumed;
    private long _retiredExpired;
    private long _retiredDropped;

    public IReadOnlyList<ChannelInfo> ListChannels()
    {
        var now = NowMs();
        var list = new List<ChannelInfo>(_channels.Count);
        foreach (var state in _channels.Values)
        {
            lock (state.Lock)
            {
                if (!state.IsRemoved && state.IsListed)
                {
                    state.PruneExpiredUnsynchronized(now);
                    list.Add(new ChannelInfo(state.Name, state.CountUnsynchronized, state.SubscriptionCountUnsynchronized, state.LastSeq));
                }
            }
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    public QueueStats GetStats()
    {
        var now = NowMs();
        var channels = new SortedDictionary<string, ChannelStats>(StringComparer.Ordinal);
        long messages = 0, sent, consumed, expired, dropped, bytes;
        var waiting = 0;
        lock (_retireLock)
        {
            sent = _retiredSent;
            consumed = _retiredConsumed;
            expired = _retiredExpired;
            dropped = _retiredDropped;
            foreach (var state in _channels.Values)
            {
                lock (state.Lock)
                {
                    waiting += state.WaitingReceivers;
                    if (state.IsRemoved || !state.IsListed)
                    {
                        continue;
                    }

                    state.PruneExpiredUnsynchronized(now);
                    var figures = new ChannelStats(state.CountUnsynchronized, state.SubscriptionCountUnsynchronized, state.Sent, state.Consumed, state.Expired, state.Dropped);
                    channels[state.Name] = figures;
                    messages += figures.Messages;
                    sent += figures.Sent;
                    consumed += figures.Consumed;
                    expired += figures.Expired;
                    dropped += figures.Dropped;
                }
            }

            bytes = _budget.Used;
        }

        return new QueueStats
        {
            TotalMessages = messages,
            TotalChannels = channels.Count,
            TotalSubscriptions = _subscriptions.Count,
            TotalBytes = bytes,
            MessagesSent = sent,
            MessagesConsumed = consumed,
            MessagesExpired = expired,
            MessagesDropped = dropped,
            WaitingReceivers = waiting,
            UptimeSeconds = Math.Max(0, (now - _startMs) / 1000),
            Channels = channels,
        };
    }

    public SweepResult Sweep()
    {
        var now = NowMs();
        long expired = 0;
        var subscriptionsRemoved = 0;
        var idleMs = (long)Options.SubscriptionIdleTimeout.TotalMilliseconds;
        foreach (var (id, subscription) in _subscriptions)
        {
            bool idle;
            lock (subscription.ChannelState.Lock)
            {
                idle = subscription.IsIdleUnsynchronized(now, idleMs);
            }

            if (idle && Unsubscribe(id))
            {
                subscriptionsRemoved++;
            }
        }

        var channelsRemoved = 0;
        foreach (var state in _channels.Values)
        {
            var remove = false;
            lock (_retireLock)
            {
                lock (state.Lock)
                {
                    if (state.IsRemoved)
                    {
                        continue;
                    }

                    expired += state.PruneExpiredUnsynchronized(now);
                    if (state.IsIdleUnsynchronized)
                    {
                        state.MarkRemovedUnsynchronized();
                        _retiredSent += state.Sent;
                        _retiredConsumed += state.Consumed;
                        _retiredExpired += state.Expired;
                        _retiredDropped += state.Dropped;
                        remove = true;
                    }
                }

                if (remove && _channels.TryRemove(KeyValuePair.Create(state.Name, state)))
                {
                    Interlocked.Decrement(ref _channelCount);
                }
            }

            if (remove)
            {
                channelsRemoved++;
            }
        }

        return new SweepResult(expired, channelsRemoved, subscriptionsRemoved);
    }
}
