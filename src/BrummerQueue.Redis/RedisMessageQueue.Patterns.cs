using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// Wildcard subscriptions on Redis (docs/scale-out.md "Wildcard subscriptions"). A pattern subscription's keys live under its
/// pattern's hash tag (no channel name holds <c>*</c> or <c>&gt;</c>, so they never meet a channel's keys); the open patterns are
/// one hash, <see cref="RedisKeys.Patterns"/>. Matching happens in two scripts only: <c>psubscribe</c> walks the existing
/// channels, and every script that makes a channel (<c>create_channel</c> in <c>common.lua</c>) walks the patterns; each
/// channel keeps its matches in its <c>psubs</c> hash, which the send script fans out to. Both run atomically in Redis, so a
/// channel made through any node reaches a pattern subscription held on any other.
/// </summary>
internal sealed partial class RedisMessageQueue
{
    private RedisSubscription SubscribePattern(string pattern, SubscribeOptions options)
    {
        var bufferSize = ArgumentRules.BufferSize(options.BufferSize, Options);
        ChannelPattern.ValidateSubscribe(pattern, options);

        var now = NowMs();
        var id = SubscriptionIdGenerator.Next(now);
        var owner = options.Owner ?? string.Empty;
        var keys = new RedisKey[] { _keys.Patterns, _keys.Channels, _keys.Index, _keys.Owner(owner) };
        var values = new RedisValue[]
        {
            now, id, bufferSize, owner, Options.MaxSubscriptionsPerOwner, pattern, _keys.ChannelPrefix(pattern), _keys.Notify(pattern).ToString(),
        };
        var result = Call(() => LuaScripts.SubscribePattern.Evaluate(_db, keys, values));
        if ((string)result[0]! == "owner")
        {
            throw Refused(QueueRefusals.TooManySubscriptions(Options.MaxSubscriptionsPerOwner));
        }

        var subscription = new RedisSubscription(this, id, pattern, options.Owner, bufferSize, string.Empty, null);
        _handles[id] = subscription;
        return subscription;
    }

    /// <summary>One <c>punsubscribe</c> script: closes the pattern subscription (when <paramref name="idleMs"/> ≥ 0, only if idle that long).</summary>
    private bool UnsubscribePatternIn(string pattern, string subscriptionId, long idleMs, long now)
    {
        var keys = new RedisKey[] { _keys.Subscription(pattern, subscriptionId), _keys.Buffer(pattern, subscriptionId), _keys.Patterns, _keys.Index, _keys.Channels };
        var values = new RedisValue[] { subscriptionId, _keys.OwnerPrefix, _keys.Notify(pattern).ToString(), now, idleMs };
        return (int)Call(() => LuaScripts.UnsubscribePattern.Evaluate(_db, keys, values)) == 1;
    }

    /// <summary>Closes the pattern subscriptions unread for the idle limit (readers waiting on this node touched theirs first).</summary>
    private int SweepIdlePatterns(long now)
    {
        var removed = 0;
        foreach (var entry in Call(() => _db.HashGetAll(_keys.Patterns)))
        {
            var id = (string)entry.Name!;
            if (UnsubscribePatternIn((string)entry.Value!, id, (long)Options.SubscriptionIdleTimeout.TotalMilliseconds, now))
            {
                removed++;
                if (_handles.TryRemove(id, out var handle))
                {
                    handle.MarkClosed();
                }
            }
        }

        return removed;
    }
}
