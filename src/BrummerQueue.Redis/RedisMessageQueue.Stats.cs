using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

internal sealed partial class RedisMessageQueue
{
    public IReadOnlyList<ChannelInfo> ListChannels()
    {
        var now = NowMs();
        var list = new List<ChannelInfo>();
        foreach (var (name, figures) in ChannelFigures(now))
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
        foreach (var (name, figures) in ChannelFigures(now))
        {
            channels[name] = new ChannelStats(figures.Epoch, figures.Messages, figures.Subscriptions, figures.Sent, figures.Consumed, figures.Expired, figures.Dropped) { Leases = figures.Leases };
            messages += figures.Messages;
            subscriptions += figures.Subscriptions;
        }

        // Read after every channel was pruned, so the totals count what those prunes expired.
        var totals = Call(() => _db.HashGet(_keys.Global, ["bytes", "sent", "consumed", "expired", "dropped", "inflight", "leased", "acked", "redelivered", "dead"]));
        return new QueueStats
        {
            TotalMessages = messages,
            TotalChannels = channels.Count,
            TotalSubscriptions = subscriptions,
            TotalBytes = Number(totals[0]),
            MessagesSent = Number(totals[1]),
            MessagesConsumed = Number(totals[2]),
            MessagesExpired = Number(totals[3]),
            MessagesDropped = Number(totals[4]),
            Leases = new LeaseFigures(Number(totals[5]), Number(totals[6]), Number(totals[7]), Number(totals[8]), Number(totals[9])),
            WaitingReceivers = Volatile.Read(ref _waitingReceivers),
            UptimeSeconds = (now - _startMs) / 1000,
            Channels = channels,
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
                Call(() => LuaScripts.Touch.Evaluate(_db, [_keys.Subscription(handle.Channel, handle.Id)], [now]));
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

    private RedisResult SweepChannel(string name, long now, bool pruneOnly)
    {
        var values = new RedisValue[]
        {
            now, (long)Options.SubscriptionIdleTimeout.TotalMilliseconds, name, _keys.ChannelPrefix(name), _keys.OwnerPrefix,
            _keys.Notify(name).ToString(), pruneOnly ? 1 : 0,
        };
        return Call(() => LuaScripts.Sweep.Evaluate(_db, _keys.ChannelKeys(name), values));
    }

    private string[] ChannelNames() => [.. Call(() => _db.SortedSetRangeByRank(_keys.Channels)).Select(v => (string)v!)];

    /// <summary>Each live channel's figures after pruning what expired, in name order (one script per channel).</summary>
    private IEnumerable<(string Name, Figures Figures)> ChannelFigures(long now)
    {
        foreach (var name in ChannelNames())
        {
            var result = Call(() => LuaScripts.Figures.Evaluate(_db, _keys.ChannelKeys(name), [now]));
            if (result.Length == 0)
            {
                continue;
            }

            yield return (name, new Figures((string)result[0]!, (int)result[1], (int)result[2], (long)result[3], (long)result[4], (long)result[5], (long)result[6], (long)result[7])
            {
                Leases = new LeaseFigures((long)result[8], (long)result[9], (long)result[10], (long)result[11], (long)result[12]),
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
        public LeaseFigures Leases { get; init; } = LeaseFigures.None;
    }
}
