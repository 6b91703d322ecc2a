using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

internal sealed partial class RedisMessageQueue
{
    // The order of QueueStats.Subscriptions within a channel, as the in-memory store's: oldest first, then by id.
    private static readonly Comparer<SubscriptionStats> s_oldestFirst = Comparer<SubscriptionStats>.Create(static (a, b) =>
    {
        var byAge = a.CreatedAt.CompareTo(b.CreatedAt);
        return byAge != 0 ? byAge : string.CompareOrdinal(a.Id, b.Id);
    });

    public IReadOnlyList<ChannelInfo> ListChannels()
    {
        var now = NowMs();
        var list = new List<ChannelInfo>();
        foreach (var (name, figures) in ChannelFigures(now, subscriptions: null))
        {
            list.Add(new ChannelInfo(name, figures.Epoch, figures.Messages, figures.Subscriptions, figures.LastSeq));
        }

        return list;
    }

    public QueueStats GetStats()
    {
        var now = NowMs();
        var channels = new SortedDictionary<string, ChannelStats>(StringComparer.Ordinal);
        long messages = 0;
        var subscriptions = 0;
        var listed = new List<SubscriptionStats>();
        foreach (var (name, figures) in ChannelFigures(now, listed))
        {
            channels[name] = new ChannelStats(figures.Epoch, figures.Messages, figures.Subscriptions, figures.Sent, figures.Consumed, figures.Expired, figures.Dropped) { Delivered = figures.Delivered, Leases = figures.Leases };
            messages += figures.Messages;
            subscriptions += figures.Subscriptions;
        }

        // Read after every channel was pruned, so the totals count what those prunes expired.
        var totals = Call(() => _db.HashGet(_keys.Global, ["bytes", "sent", "consumed", "expired", "dropped", "delivered", "inflight", "leased", "acked", "redelivered", "dead"]));
        return new QueueStats
        {
            TotalMessages = messages,
            TotalChannels = channels.Count,
            TotalSubscriptions = subscriptions + (int)Call(() => _db.HashLength(_keys.Patterns)),
            TotalBytes = Number(totals[0]),
            MessagesSent = Number(totals[1]),
            MessagesConsumed = Number(totals[2]),
            MessagesExpired = Number(totals[3]),
            MessagesDropped = Number(totals[4]),
            MessagesDelivered = Number(totals[5]),
            Leases = new LeaseFigures(Number(totals[6]), Number(totals[7]), Number(totals[8]), Number(totals[9]), Number(totals[10])),
            WaitingReceivers = Volatile.Read(ref _waitingReceivers),
            UptimeSeconds = (now - _startMs) / 1000,
            Channels = channels,
            Subscriptions = listed,
        };
    }

    public SweepResult Sweep()
    {
        ExpireDueLeases();
        var now = NowMs();

        // Subscriptions that a reader of this node waits on are active (SPEC.md §1: only unread ones are idle).
        foreach (var (_, handle) in _handles)
        {
            if (handle.IsWaitedOn)
            {
                Call(() => LuaScripts.Touch.Evaluate(_db, [_keys.Subscription(handle.Channel, handle.Id)], [now, ReadingLease(now)]));
            }
        }

        long expired = 0;
        var channelsRemoved = 0;
        var subscriptionsRemoved = 0;
        foreach (var name in ChannelNames())
        {
            var result = SweepChannel(name, now, pruneOnly: false);
            expired += (long)result[0];
            channelsRemoved += (int)result[1];
            subscriptionsRemoved += (int)result[2];
            for (var i = 3; i < result.Length; i++)
            {
                // The sweeping node closes its own handles at once; other nodes learn it from the notification.
                if (_handles.TryRemove((string)result[i]!, out var handle))
                {
                    handle.MarkClosed();
                }
            }
        }

        subscriptionsRemoved += SweepIdlePatterns(now);
        return new SweepResult(expired, channelsRemoved, subscriptionsRemoved);
    }

    private static long Number(RedisValue value) => value.IsNull ? 0 : (long)value;

    /// <summary>Prunes expired messages of every channel (a send refused for the byte cap retries once after it).</summary>
    private long PruneAllExpired(long now)
    {
        long expired = 0;
        foreach (var name in ChannelNames())
        {
            expired += (long)SweepChannel(name, now, pruneOnly: true)[0];
        }

        return expired;
    }

    /// <summary><see cref="PruneAllExpired"/> without blocking (the asynchronous send's retry).</summary>
    private async Task<long> PruneAllExpiredAsync(long now)
    {
        var names = await CallAsync(() => _db.SortedSetRangeByRankAsync(_keys.Channels)).ConfigureAwait(false);
        long expired = 0;
        foreach (var value in names)
        {
            var name = (string)value!;
            var result = await CallAsync(() => LuaScripts.Sweep.EvaluateAsync(_db, _keys.ChannelKeys(name), SweepValues(name, now, pruneOnly: true))).ConfigureAwait(false);
            expired += (long)result[0];
        }

        return expired;
    }

    private RedisResult SweepChannel(string name, long now, bool pruneOnly)
    {
        var values = SweepValues(name, now, pruneOnly);
        return Call(() => LuaScripts.Sweep.Evaluate(_db, _keys.ChannelKeys(name), values));
    }

    private RedisValue[] SweepValues(string name, long now, bool pruneOnly) =>
    [
        now, (long)Options.SubscriptionIdleTimeout.TotalMilliseconds, name, _keys.ChannelPrefix(name), _keys.OwnerPrefix,
        _keys.Notify(name).ToString(), pruneOnly ? 1 : 0,
    ];

    private string[] ChannelNames() => [.. Call(() => _db.SortedSetRangeByRank(_keys.Channels)).Select(v => (string)v!)];

    /// <summary>
    /// Until when a waiting reader counts as reading in stats on every node (docs/scale-out.md "Stats and lists"): the
    /// waiting node renews it at each sweep tick, so two ticks outlast one missed renewal.
    /// </summary>
    internal long ReadingLease(long now) => now + (2 * (long)Options.SweepInterval.TotalMilliseconds);

    /// <summary>
    /// Each live channel's figures after pruning what expired, in name order (one script per channel); with
    /// <paramref name="subscriptions"/>, each channel's open subscriptions are added to it too, oldest first (the same round trip).
    /// </summary>
    private IEnumerable<(string Name, Figures Figures)> ChannelFigures(long now, List<SubscriptionStats>? subscriptions)
    {
        var idleMs = (long)Options.SubscriptionIdleTimeout.TotalMilliseconds;
        foreach (var name in ChannelNames())
        {
            var result = Call(() => LuaScripts.Figures.Evaluate(_db, _keys.ChannelKeys(name), [now, subscriptions is null ? 0 : 1]));
            if (result.Length == 0)
            {
                continue;
            }

            if (subscriptions is not null)
            {
                var first = subscriptions.Count;
                for (var i = 14; i + 6 < result.Length; i += 7)
                {
                    var id = (string)result[i]!;
                    var owner = (string?)result[i + 1];
                    var lastRead = (long)result[i + 3];

                    // A reader of this node waits on it, or one of any node did and renewed its lease.
                    var reading = (_handles.TryGetValue(id, out var handle) && handle.IsWaitedOn) || (long)result[i + 6] > now;
                    subscriptions.Add(new SubscriptionStats(
                        id,
                        name,
                        string.IsNullOrEmpty(owner) ? null : owner,
                        DateTimeOffset.FromUnixTimeMilliseconds((long)result[i + 2]),
                        DateTimeOffset.FromUnixTimeMilliseconds(lastRead),
                        (int)result[i + 4],
                        (long)result[i + 5],
                        reading,
                        reading ? null : DateTimeOffset.FromUnixTimeMilliseconds(lastRead + idleMs)));
                }

                subscriptions.Sort(first, subscriptions.Count - first, s_oldestFirst);
            }

            yield return (name, new Figures((string)result[0]!, (int)result[1], (int)result[2], (long)result[3], (long)result[4], (long)result[5], (long)result[6], (long)result[7])
            {
                Delivered = (long)result[8],
                Leases = new LeaseFigures((long)result[9], (long)result[10], (long)result[11], (long)result[12], (long)result[13]),
            });
        }
    }

    private void SweepInBackground()
    {
        try
        {
            Sweep();
        }
        catch (QueueException e) when (e.Code == QueueErrorCodes.StoreUnavailable)
        {
            // Redis is away: the next tick (on this node or another) sweeps; nothing is lost by skipping one.
        }
    }

    private readonly record struct Figures(string Epoch, int Messages, int Subscriptions, long LastSeq, long Sent, long Consumed, long Expired, long Dropped)
    {
        public long Delivered { get; init; }

        public LeaseFigures Leases { get; init; } = LeaseFigures.None;
    }
}
