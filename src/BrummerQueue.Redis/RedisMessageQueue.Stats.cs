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
            channels[name] = new ChannelStats(figures.Epoch, figures.Messages, figures.Subscriptions, figures.Sent, figures.Consumed, figures.Expired, figures.Dropped);
            messages += figures.Messages;
            subscriptions += figures.Subscriptions;
        }

        // Read after every channel was pruned, so the totals count what those prunes expired.
        var totals = Call(() => _db.HashGet(_keys.Global, ["bytes", "sent", "consumed", "expired", "dropped"]));
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
            WaitingReceivers = Volatile.Read(ref _waitingReceivers),
            UptimeSeconds = (now - _startMs) / 1000,
            Channels = channels,
        };
    }

    public SweepResult Sweep()
    {
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

            yield return (name, new Figures((string)result[0]!, (int)result[1], (int)result[2], (long)result[3], (long)result[4], (long)result[5], (long)result[6], (long)result[7]));
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

    private readonly record struct Figures(string Epoch, int Messages, int Subscriptions, long LastSeq, long Sent, long Consumed, long Expired, long Dropped);
}
