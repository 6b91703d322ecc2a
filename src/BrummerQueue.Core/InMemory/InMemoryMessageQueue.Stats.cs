namespace BrummerQueue.Core.InMemory;

internal sealed partial class InMemoryMessageQueue
{
    // Guards the _retired* fields and _retireGeneration (written only under it; GetStats re-reads the
    // generation with Volatile.Read to detect a retirement during its walk).
    private readonly Lock _retireLock = new();
    private long _retireGeneration;
    private long _retiredSent;
    private long _retiredConsumed;
    private long _retiredExpired;
    private long _retiredDropped;

    public IReadOnlyList<ChannelInfo> ListChannels()
    {
        var now = NowMs();
        var list = new List<ChannelInfo>(Math.Max(0, Volatile.Read(ref _channelCount)));
        foreach (var (_, state) in _channels)
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
        while (true)
        {
            // Optimistic read: take the retired totals and their generation, walk the live channels
            // (ChannelState.ReadFigures, no channel lock unless something expired), and keep the result
            // if no channel was retired meanwhile.
            // Retiring is rare (cleanup of idle channels), so a retry is rare; stats never block sends
            // of other channels, and concurrent stats calls do not wait for each other.
            long generation, sent, consumed, expired, dropped;
            lock (_retireLock)
            {
                generation = _retireGeneration;
                sent = _retiredSent;
                consumed = _retiredConsumed;
                expired = _retiredExpired;
                dropped = _retiredDropped;
            }

            var now = NowMs();
            var entries = new KeyValuePair<string, ChannelStats>[Math.Max(0, Volatile.Read(ref _channelCount))];
            var count = 0;
            long messages = 0;
            var subscriptions = 0;
            var waiting = 0;
            foreach (var (_, state) in _channels)
            {
                waiting += state.WaitingReceivers;
                if (state.IsRemoved || !state.IsListed)
                {
                    continue;
                }

                var figures = state.ReadFigures(now);
                if (count == entries.Length)
                {
                    Array.Resize(ref entries, Math.Max(4, count * 2));
                }

                entries[count++] = KeyValuePair.Create(state.Name, figures);
                messages += figures.Messages;
                subscriptions += figures.Subscriptions;
                sent += figures.Sent;
                consumed += figures.Consumed;
                expired += figures.Expired;
                dropped += figures.Dropped;
            }

            if (Volatile.Read(ref _retireGeneration) != generation)
            {
                continue;
            }

            var channels = new SortedChannelStats(entries, count);

            return new QueueStats
            {
                TotalMessages = messages,
                TotalChannels = channels.Count,
                TotalSubscriptions = subscriptions,
                TotalBytes = _budget.Used,
                MessagesSent = sent,
                MessagesConsumed = consumed,
                MessagesExpired = expired,
                MessagesDropped = dropped,
                WaitingReceivers = waiting,
                UptimeSeconds = Math.Max(0, (now - _startMs) / 1000),
                Channels = channels,
            };
        }
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
        foreach (var (_, state) in _channels)
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
                        _retireGeneration++;
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
