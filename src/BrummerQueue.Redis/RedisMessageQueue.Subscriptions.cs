using System.Diagnostics.CodeAnalysis;
using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

internal sealed partial class RedisMessageQueue
{
    public Subscription Subscribe(string channel, SubscribeOptions? options = null)
    {
        options ??= new SubscribeOptions();
        if (ChannelPattern.IsPattern(channel))
        {
            return SubscribePattern(channel, options);
        }

        var bufferSize = ArgumentRules.BufferSize(options.BufferSize, Options);
        ArgumentRules.SinceSeq(options.SinceSeq);
        ChannelEpoch.Validate(options.Epoch, options.SinceSeq);
        ArgumentRules.Channel(channel);
        var now = NowMs();
        var id = SubscriptionIdGenerator.Next(now);
        var values = new RedisValue[]
        {
            now, id, bufferSize, options.Owner ?? string.Empty, Options.MaxSubscriptionsPerOwner, options.SinceSeq ?? -1,
            options.Epoch ?? string.Empty, ChannelEpoch.New(), Options.MaxChannels, channel, _keys.ChannelPrefix(channel),
        };
        var result = Call(() => LuaScripts.Subscribe.Evaluate(_db, _keys.ChannelKeys(channel, options.Owner ?? string.Empty), values));
        switch ((string)result[0]!)
        {
            case "owner":
                throw Refused(QueueRefusals.TooManySubscriptions(Options.MaxSubscriptionsPerOwner));
            case "channels":
                throw Refused(QueueRefusals.TooManyChannels(Options.MaxChannels, channel));
        }

        var recovered = (int)result[2];
        var subscription = new RedisSubscription(this, id, channel, options.Owner, bufferSize, (string)result[1]!, recovered < 0 ? null : recovered == 1);
        _handles[id] = subscription;
        return subscription;
    }

    public bool TryGetSubscription(string subscriptionId, [NotNullWhen(true)] out Subscription? subscription)
    {
        subscription = null;
        if (subscriptionId is null)
        {
            return false;
        }

        if (_handles.TryGetValue(subscriptionId, out var handle) && !handle.IsClosed)
        {
            subscription = handle;
            return true;
        }

        // Made on another node (or before this node started): found through the id index.
        var channel = (string?)Call(() => _db.HashGet(_keys.Index, subscriptionId));
        if (channel is null)
        {
            return false;
        }

        var fields = Call(() => _db.HashGet(_keys.Subscription(channel, subscriptionId), ["size", "owner"]));
        if (fields[0].IsNull)
        {
            return false;
        }

        var epoch = (string?)Call(() => _db.HashGet(_keys.ChannelKeys(channel)[0], "epoch")) ?? string.Empty;
        var owner = (string?)fields[1];
        handle = new RedisSubscription(this, subscriptionId, channel, string.IsNullOrEmpty(owner) ? null : owner, (int)fields[0], epoch, null);
        subscription = _handles.GetOrAdd(subscriptionId, handle);
        return true;
    }

    public bool Unsubscribe(string subscriptionId)
    {
        if (subscriptionId is null)
        {
            return false;
        }

        string? channel;
        if (_handles.TryGetValue(subscriptionId, out var handle))
        {
            channel = handle.Channel;
        }
        else
        {
            channel = Call(() => (string?)_db.HashGet(_keys.Index, subscriptionId));
            if (channel is null)
            {
                return false;
            }
        }

        var removed = ChannelPattern.IsPattern(channel) ? UnsubscribePatternIn(channel, subscriptionId, -1, NowMs()) : UnsubscribeIn(channel, subscriptionId);
        if (_handles.TryRemove(subscriptionId, out handle))
        {
            handle.MarkClosed();
        }

        return removed;
    }

    public int UnsubscribeOwner(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ReleaseLeasesOf(owner);
        var ids = Call(() => _db.SetMembers(_keys.Owner(owner)));
        var removed = 0;
        foreach (var id in ids)
        {
            if (Unsubscribe((string)id!))
            {
                removed++;
            }
        }

        return removed;
    }

    private bool UnsubscribeIn(string channel, string subscriptionId)
    {
        var keys = new RedisKey[] { _keys.Subscription(channel, subscriptionId), _keys.Buffer(channel, subscriptionId), _keys.ChannelKeys(channel)[4], _keys.Index };
        var values = new RedisValue[] { subscriptionId, _keys.OwnerPrefix, _keys.Notify(channel).ToString() };
        return (int)Call(() => LuaScripts.Unsubscribe.Evaluate(_db, keys, values)) == 1;
    }

    private async ValueTask<ReceiveResult> ReadSubscriptionAsync(string subscriptionId, int limit, long deadline, CancellationToken cancellationToken)
    {
        if (!TryGetSubscription(subscriptionId, out var found))
        {
            throw QueueRefusals.SubscriptionNotFound(subscriptionId);
        }

        var subscription = (RedisSubscription)found;
        var messages = new List<QueueMessage>(Math.Min(limit, 16));
        long dropped = 0;
        while (true)
        {
            var arrival = deadline == 0 ? null : Signals.Current(subscription.Channel);
            var read = await subscription.ReadAsync(limit, messages).ConfigureAwait(false);
            if (read < 0)
            {
                if (messages.Count == 0 && dropped == 0 && deadline == 0)
                {
                    throw QueueRefusals.SubscriptionNotFound(subscriptionId);
                }

                break;
            }

            dropped += read;
            var remaining = deadline == 0 ? TimeSpan.Zero : RemainingUntil(deadline);
            if (messages.Count > 0 || remaining <= TimeSpan.Zero)
            {
                break;
            }

            subscription.BeginWait();
            try
            {
                await arrival!.WaitAsync(remaining, Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            finally
            {
                subscription.EndWait();
            }
        }

        return new ReceiveResult(messages, dropped) { Source = messages.Count > 0 || dropped > 0 ? subscription : null };
    }
}
