namespace BrummerQueue.Core.InMemory;

internal sealed partial class InMemoryMessageQueue
{
    // Serializes retirements (Sweep). Lock order: _retireLock, then a channel lock.
    private readonly Lock _retireLock = new();

    // Written only under _retireLock (Volatile.Write), read lock-free by GetStats.
    private RetiredTotals _retired = RetiredTotals.None;

    // The channels sorted by name for stats, rebuilt when _channelSetVersion has moved. A benign race:
    // two threads may rebuild at once and either result is a valid view.
    private SortedChannels _sorted = SortedChannels.Empty;

    public IReadOnlyList<ChannelInfo> ListChannels()
    {
        var now = NowMs();
        var sorted = SortedChannelsNow();
        var list = new List<ChannelInfo>(sorted.Length);

        // In the cached name order, so the list comes out sorted; a removed channel is skipped under its lock.
        foreach (var state in sorted)
        {
            lock (state.Lock)
            {
                if (!state.IsRemoved && state.IsListed)
                {
                    state.PruneExpiredUnsynchronized(now);
                    list.Add(new ChannelInfo(state.Name, state.Epoch, state.CountUnsynchronized, state.SubscriptionCountUnsynchronized, state.LastSeq));
                }
            }
        }

        return list;
    }

    public QueueStats GetStats()
    {
        while (true)
        {
            // Optimistic read: take the retired totals, walk the channels (ChannelState.ReadFigures, no
            // channel lock unless something expired) in the cached name order, and keep the result if no
            // channel was retired meanwhile (the same totals instance). Retiring is rare (cleanup of idle
            // channels), so a retry is rare; stats take no lock shared with sends or with other stats calls.
            var retired = Volatile.Read(ref _retired);
            var (sent, consumed, expired, dropped) = retired;
            var delivered = retired.Delivered;
            var leases = retired.Leases;
            var now = NowMs();
            var sorted = SortedChannelsNow();
            var entries = new KeyValuePair<string, ChannelStats>[sorted.Length];
            var count = 0;
            long messages = 0;
            var subscriptions = 0;
            var waiting = 0;
            foreach (var state in sorted)
            {
                waiting += state.WaitingReceivers;
                if (state.IsRemoved || !state.IsListed)
                {
                    continue;
                }

                var figures = state.ReadFigures(now);
                entries[count++] = KeyValuePair.Create(state.Name, figures);
                messages += figures.Messages;
                subscriptions += figures.Subscriptions;
                sent += figures.Sent;
                consumed += figures.Consumed;
                expired += figures.Expired;
                dropped += figures.Dropped;
                delivered += figures.Delivered;
                leases += figures.Leases;
            }

            if (!ReferenceEquals(Volatile.Read(ref _retired), retired))
            {
                continue;
            }

            var channels = new SortedChannelStats(entries, count);
            return new QueueStats
            {
                TotalMessages = messages,
                TotalChannels = channels.Count,
                TotalSubscriptions = subscriptions + _patternSubscriptions.Count,
                TotalBytes = _budget.Used,
                MessagesSent = sent,
                MessagesConsumed = consumed,
                MessagesExpired = expired,
                MessagesDropped = dropped,
                MessagesDelivered = delivered,
                Leases = leases,
                WaitingReceivers = waiting,
                UptimeSeconds = Math.Max(0, (now - _startMs) / 1000),
                Channels = channels,
                Subscriptions = ListSubscriptions(),
            };
        }
    }

    /// <summary>
    /// The open subscriptions for <see cref="QueueStats.Subscriptions"/>, by channel, then oldest first. Unlike the
    /// channel figures this takes each subscription's channel lock briefly (its buffer is a Queue guarded by it); stats
    /// are read about once a second (the dashboard), so the cost to sends on those channels is one short lock per call.
    /// </summary>
    private List<SubscriptionStats> ListSubscriptions()
    {
        var idleMs = (long)Options.SubscriptionIdleTimeout.TotalMilliseconds;
        var list = new List<SubscriptionStats>(_subscriptions.Count);
        foreach (var (_, subscription) in _subscriptions)
        {
            lock (subscription.ChannelState.Lock)
            {
                if (!subscription.IsClosed)
                {
                    list.Add(subscription.ReadStatsUnsynchronized(idleMs));
                }
            }
        }

        AddPatternStats(list, idleMs);
        list.Sort(static (a, b) =>
        {
            var byChannel = string.CompareOrdinal(a.Channel, b.Channel);
            if (byChannel != 0)
            {
                return byChannel;
            }

            var byAge = a.CreatedAt.CompareTo(b.CreatedAt);
            return byAge != 0 ? byAge : string.CompareOrdinal(a.Id, b.Id);
        });
        return list;
    }

    public SweepResult Sweep()
    {
        ExpireDueLeases();
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

        subscriptionsRemoved += SweepIdlePatterns(now, idleMs);
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
                        // Marked removed before the new totals are published, so a stats call that sees
                        // the new totals also sees the channel as removed and does not count it twice.
                        state.MarkRemovedUnsynchronized();
                        Volatile.Write(ref _retired, _retired.Add(state));
                        remove = true;
                    }
                }

                if (remove && _channels.TryRemove(KeyValuePair.Create(state.Name, state)))
                {
                    Interlocked.Decrement(ref _channelCount);
                    Interlocked.Increment(ref _channelSetVersion);
                }
            }

            if (remove)
            {
                channelsRemoved++;
            }
        }

        return new SweepResult(expired, channelsRemoved, subscriptionsRemoved);
    }

    /// <summary>Every channel sorted by name: the cached view while no channel was added or removed since it was built.</summary>
    private ChannelState[] SortedChannelsNow()
    {
        var version = Volatile.Read(ref _channelSetVersion);
        var cached = Volatile.Read(ref _sorted);
        if (cached.Version == version)
        {
            return cached.Channels;
        }

        // Read the version before enumerating: a channel added during the walk moves it again, so this
        // view, tagged with the older version, is rebuilt by the next call.
        var channels = new List<ChannelState>(Math.Max(0, Volatile.Read(ref _channelCount)));
        foreach (var (_, state) in _channels)
        {
            channels.Add(state);
        }

        var array = channels.ToArray();
        Array.Sort(array, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        Volatile.Write(ref _sorted, new SortedChannels(version, array));
        return array;
    }
}
