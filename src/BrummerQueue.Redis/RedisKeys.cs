using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// Key names (docs/scale-out.md "Key layout"). Every key of a channel starts with <c>{prefix}{channel}:</c>, so the
/// channel name is its hash tag and all of a channel's keys (subscription buffers included) share one cluster slot.
/// The channel list, the totals, the subscription index and owner sets are the few keys outside any channel.
/// </summary>
internal sealed class RedisKeys
{
    /// <summary>Notification channels a node listens to; a channel's notifications go to one of them by a hash of its name.</summary>
    public const int NotifyShards = 16;

    private readonly string _prefix;

    /// <param name="prefix">Prefix of every key and notification channel.</param>
    /// <param name="database">The Redis database the keys are in: pub/sub is not per database, so the notification
    /// channels name it, and queues in different databases of one Redis do not hear each other.</param>
    public RedisKeys(string prefix, int database)
    {
        _prefix = prefix;
        Global = prefix + "global";
        Channels = prefix + "channels";
        Index = prefix + "subs";
        Patterns = prefix + "patterns";
        Leasing = prefix + "leasing";
        OwnerPrefix = prefix + "owner:";
        NotifyChannels = [.. Enumerable.Range(0, NotifyShards).Select(i => RedisChannel.Literal(prefix + "notify:" + database + ":" + i))];
    }

    /// <summary>Hash of the totals: bytes, sent, consumed, expired, dropped.</summary>
    public RedisKey Global { get; }

    /// <summary>Sorted set of live channel names (all scores 0, so ordered by name).</summary>
    public RedisKey Channels { get; }

    /// <summary>Hash of subscription id to channel name, so any node finds a subscription by its id.</summary>
    public RedisKey Index { get; }

    /// <summary>Hash of the open pattern subscriptions: id to pattern (the scripts derive this name from <see cref="Channels"/>).</summary>
    public RedisKey Patterns { get; }

    /// <summary>Sorted set of the channels with leases out, by their earliest lease deadline (Unix ms): what every node's lease expiry walks.</summary>
    public RedisKey Leasing { get; }

    /// <summary>Prefix of an owner's set of subscription ids.</summary>
    public string OwnerPrefix { get; }

    /// <summary>The notification channels, one per shard.</summary>
    public RedisChannel[] NotifyChannels { get; }

    public RedisKey Owner(string owner) => OwnerPrefix + owner;

    /// <summary>The prefix every key of <paramref name="channel"/> starts with, hash tag included.</summary>
    public string ChannelPrefix(string channel) => _prefix + "{" + channel + "}:";

    /// <summary>
    /// The keys the channel scripts take, in this order: meta (hash: epoch, seq, sent, consumed, expired, dropped), q (backlog:
    /// sorted set of message members by seq), x (expiry index: members by expiry ms), d (hash: member to blob), subs (hash:
    /// subscription id to buffer size), then the totals, the channel list, the subscription index and, when given, an owner's set.
    /// </summary>
    public RedisKey[] ChannelKeys(string channel, string? owner = null)
    {
        var p = ChannelPrefix(channel);
        var keys = new RedisKey[owner is null ? 8 : 9];
        keys[0] = p + "meta";
        keys[1] = p + "q";
        keys[2] = p + "x";
        keys[3] = p + "d";
        keys[4] = p + "subs";
        keys[5] = Global;
        keys[6] = Channels;
        keys[7] = Index;
        if (owner is not null)
        {
            keys[8] = Owner(owner);
        }

        return keys;
    }

    public RedisKey Subscription(string channel, string id) => ChannelPrefix(channel) + "s:" + id;

    public RedisKey Buffer(string channel, string id) => ChannelPrefix(channel) + "b:" + id;

    /// <summary>The notification channel of <paramref name="channel"/> (FNV-1a of its name, modulo the shard count).</summary>
    public RedisChannel Notify(string channel)
    {
        var hash = 2166136261u;
        foreach (var c in channel)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return NotifyChannels[hash % NotifyShards];
    }
}
