using System.Buffers.Text;
using System.Collections.Concurrent;
using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// Acknowledged receive on Redis (docs/scale-out.md "Leases"): one script per operation (<c>lease.lua</c>, <c>ack.lua</c>,
/// <c>expire.lua</c>), each atomic. Every node ends due leases: at its own leases' earliest deadline (a timer of the injected
/// <see cref="TimeProvider"/>) and at every sweep for all channels in <see cref="RedisKeys.Leasing"/> (leases of a node that
/// died); a lease ended by two nodes at once is ended, and counted, once. What this node keeps locally:
/// <list type="bullet">
/// <item><c>_ownerChannels</c>: for each owner (an MCP session or WebSocket of this node), the channels it leased from, so
/// that <see cref="IMessageQueue.UnsubscribeOwner"/> releases them (an owner lives on one node). Concurrent dictionaries.</item>
/// <item><c>_leaseTimer</c>: a <see cref="DeadlineTimer"/> (thread-safe; its timer is made on first use).</item>
/// </list>
/// </summary>
internal sealed partial class RedisMessageQueue
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _ownerChannels = new(StringComparer.Ordinal);
    private readonly DeadlineTimer _leaseTimer;

    public AckResult Ack(string channel, IReadOnlyList<string> messageIds, string? owner = null)
    {
        LeaseRules.MessageIds(messageIds);
        ArgumentRules.Channel(channel);
        var notLeased = new List<string>();
        var sent = new List<int>(messageIds.Count);
        var values = new List<RedisValue> { owner ?? string.Empty, _keys.ChannelPrefix(channel), channel };
        for (var i = 0; i < messageIds.Count; i++)
        {
            if (Guid.TryParse(messageIds[i], out var id))
            {
                sent.Add(i);
                values.Add(id.ToString("N"));
            }
        }

        var acked = 0;
        var refusedIndexes = new HashSet<int>();
        if (sent.Count > 0)
        {
            var result = Call(() => LuaScripts.Ack.Evaluate(_db, LeaseKeys(channel), [.. values]));
            acked = (int)result[0];
            for (var i = 1; i < result.Length; i++)
            {
                refusedIndexes.Add(sent[(int)result[i]]);
            }
        }

        for (var i = 0; i < messageIds.Count; i++)
        {
            if (!sent.Contains(i) || refusedIndexes.Contains(i))
            {
                notLeased.Add(messageIds[i]);
            }
        }

        return new AckResult(acked, notLeased);
    }

    /// <summary>A consuming, peeking or (with <see cref="ReceiveRequest.AckTimeoutSeconds"/>) leasing take for <paramref name="request"/>.</summary>
    private async Task<TakeOutcome> TakeOrLeaseAsync(string channel, ReceiveRequest request, List<QueueMessage> into)
    {
        var leaseMs = LeaseRules.AckTimeoutMs(request);
        if (leaseMs == 0)
        {
            return await TakeAsync(channel, request.Limit, request.Peek, into).ConfigureAwait(false);
        }

        var now = NowMs();
        var deadline = now + leaseMs;
        var values = new RedisValue[] { now, request.Limit, deadline, request.Owner ?? string.Empty, _keys.ChannelPrefix(channel), channel };
        var result = await CallAsync(() => LuaScripts.Lease.EvaluateAsync(_db, LeaseKeys(channel), values)).ConfigureAwait(false);
        var count = result.Length - 1;
        for (var i = 1; i <= count; i++)
        {
            into.Add(DecodeCounted(channel, (RedisValue)result[i]));
        }

        if (count > 0)
        {
            if (request.Owner is { } owner)
            {
                _ownerChannels.GetOrAdd(owner, static _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(channel, 0);
            }

            ScheduleLeaseTimer(deadline);
        }

        return new TakeOutcome(channel, (string)result[0]!, count, deadline);
    }

    /// <summary>A channel receive's result: a leased one names its leases for a put-back.</summary>
    private static ReceiveResult Taken(List<QueueMessage> messages, ReceiveRequest request, TakeOutcome taken)
    {
        if (request.AckTimeoutSeconds is null)
        {
            return Taken(messages, request.Peek, taken);
        }

        return new ReceiveResult(messages, null)
        {
            Source = messages.Count == 0 ? null : new LeaseSource(taken.Channel, taken.LeaseDeadline, [.. messages.Select(m => m.Id)]),
        };
    }

    /// <summary>Put-back of a leased receive that could not hand its messages over: the leases still out are undone (not a delivery).</summary>
    private PutBackResult ReturnUndelivered(LeaseSource leases)
    {
        var extra = new List<RedisValue>(leases.Ids.Count * 2);
        foreach (var id in leases.Ids)
        {
            extra.Add(id.ToString("N"));
            extra.Add(leases.Deadline);
        }

        var result = EndLeases(leases.Channel, "unlease", string.Empty, extra);
        return new PutBackResult((int)result[0], (int)result[1], (int)result[2]);
    }

    /// <summary>Ends every lease <paramref name="owner"/> holds (its session or socket on this node ended) as if it had run out.</summary>
    private void ReleaseLeasesOf(string owner)
    {
        if (!_ownerChannels.TryRemove(owner, out var channels))
        {
            return;
        }

        foreach (var (channel, _) in channels)
        {
            EndLeases(channel, "owner", owner, []);
        }
    }

    /// <summary>Ends the due leases of every channel that has some (any node's), and sets this node's timer for the next deadline.</summary>
    private void ExpireDueLeases()
    {
        _leaseTimer.Reset();

        var now = NowMs();
        var due = Call(() => _db.SortedSetRangeByScore(_keys.Leasing, double.NegativeInfinity, now));
        foreach (var name in due)
        {
            var next = (long)EndLeases((string)name!, "due", string.Empty, [])[3];
            if (next >= 0)
            {
                ScheduleLeaseTimer(next);
            }
        }
    }

    /// <summary>Runs <c>expire.lua</c> on one channel and stores the dead letters it hands back.</summary>
    private RedisResult EndLeases(string channel, string mode, string argument, List<RedisValue> extra)
    {
        var values = new List<RedisValue>
        {
            NowMs(), Options.ChannelCapacity, Options.MaxDeliveries, mode, argument, _keys.ChannelPrefix(channel), channel, _keys.Notify(channel).ToString(),
        };
        values.AddRange(extra);
        var result = Call(() => LuaScripts.ExpireLeases.Evaluate(_db, LeaseKeys(channel), [.. values]));
        if ((int)result[0] > 0)
        {
            _signals.Wake(channel);
        }

        for (var i = 4; i + 1 < result.Length; i += 2)
        {
            var message = MessageBlob.Decode(channel, (RedisValue)result[i]);
            StoreDeadLetter(DeadLetters.ChannelFor(channel), DeadLetters.Draft(message, (int)result[i + 1]));
        }

        return result;
    }

    /// <summary>
    /// Stores a dead letter without the byte cap (it was stored and acknowledged before), through the send script. The size
    /// and payload rules are not applied either. The channel limit may refuse it (then it is lost; it was counted dead-lettered).
    /// </summary>
    private void StoreDeadLetter(string channel, MessageDraft draft)
    {
        var now = NowMs();
        var ttl = (int)draft.TtlSeconds!.Value;
        var id = Core.InMemory.MessageIdGenerator.Next(now);
        var call = new SendCall(channel, id, draft.Type!, draft.Payload, ttl, now, MessageBlob.Tail(now, ttl, id, draft.Type!, draft.Payload));
        var result = RunSendScript(channel, [call], long.MaxValue);
        if ((string)result[0]! != "ok")
        {
            return;
        }

        var message = new QueueMessage(id, channel, (long)result[2], draft.Type!, draft.Payload, now, ttl);
        _signals.Wake(channel);
        MessageStored?.Invoke(message);
    }

    /// <summary>The channel keys and the <see cref="RedisKeys.Leasing"/> set, as the lease scripts take them.</summary>
    private RedisKey[] LeaseKeys(string channel)
    {
        var keys = _keys.ChannelKeys(channel);
        keys[6] = _keys.Leasing;
        return keys[..7];
    }

    /// <summary>Decodes a blob a receive or lease script returned, <c>#count|</c> in front when the message has a delivery count.</summary>
    private static QueueMessage DecodeCounted(string channel, RedisValue value)
    {
        var bytes = (byte[])value!;
        if (bytes.Length == 0 || bytes[0] != (byte)'#')
        {
            return MessageBlob.Decode(channel, value);
        }

        var end = Array.IndexOf(bytes, (byte)'|');
        if (!Utf8Parser.TryParse(bytes.AsSpan(1, end - 1), out int count, out _))
        {
            throw new FormatException("a delivery count from Redis is not a number");
        }

        var message = MessageBlob.Decode(channel, bytes[(end + 1)..]);
        return count == 0 ? message : message.WithDeliveryCount(count);
    }

    /// <summary>Sets the lease timer to fire at <paramref name="deadlineMs"/> unless it already fires earlier.</summary>
    private void ScheduleLeaseTimer(long deadlineMs) => _leaseTimer.Schedule(deadlineMs, NowMs());

    private void OnLeaseTimer()
    {
        try
        {
            ExpireDueLeases();
        }
        catch (QueueException e) when (e.Code == QueueErrorCodes.StoreUnavailable)
        {
            // Redis is away: the next sweep (on this node or another) ends the leases; nothing is lost by waiting.
        }
    }

    private void DisposeLeaseTimer() => _leaseTimer.Dispose();
}
