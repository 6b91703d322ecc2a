namespace BrummerQueue.Core;

/// <summary>
/// A stored message. Immutable: the same instance sits in the channel's backlog and in every
/// subscription buffer that got a copy, so it is safe to read from any thread.
/// </summary>
public sealed class QueueMessage
{
    // A host's encoding of this message (GetOrAddEncoded): set once, by the first caller.
    private object? _encoded;

    /// <summary>Creates a message; the queue does this, and other stores and tests may too.</summary>
    public QueueMessage(Guid id, string channel, long seq, string type, JsonPayload payload, long timestampMs, int ttlSeconds)
    {
        Id = id;
        Channel = channel;
        Seq = seq;
        Type = type;
        Payload = payload;
        TimestampMs = timestampMs;
        TtlSeconds = ttlSeconds;
        ExpiresAtMs = ttlSeconds == 0 ? long.MaxValue : timestampMs + (ttlSeconds * 1000L);
    }

    /// <summary>Unique, time-ordered id in the UUIDv7 layout.</summary>
    public Guid Id { get; }

    /// <summary>The channel the message was sent to.</summary>
    public string Channel { get; }

    /// <summary>Per-channel sequence number: 1 for the first message, strictly increasing in send order.</summary>
    public long Seq { get; }

    /// <summary>The message type, <c>"message"</c> unless the sender chose one.</summary>
    public string Type { get; }

    /// <summary>The payload, any JSON value.</summary>
    public JsonPayload Payload { get; }

    /// <summary>When the queue stored the message, in Unix milliseconds.</summary>
    public long TimestampMs { get; }

    /// <summary>Time to live in whole seconds; 0 means the message never expires.</summary>
    public int TtlSeconds { get; }

    /// <summary>When the message expires, in Unix milliseconds; <see cref="long.MaxValue"/> when it never does.</summary>
    public long ExpiresAtMs { get; }

    /// <summary>Request/reply: the channel a responder answers on, or null (docs/protocol.md "Request/reply").</summary>
    public string? ReplyTo { get; init; }

    /// <summary>Request/reply: the sender's correlation id (a reply carries its request's id), or null.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>
    /// How many leased deliveries of this message ended unacknowledged (docs/protocol.md "Acknowledged receive"): 0 for a
    /// message never leased, or acked; each return to the backlog makes a copy with one more. Wire name <c>delivery_count</c>,
    /// written only when above 0.
    /// </summary>
    public int DeliveryCount { get; init; }

    /// <summary>This message with another <see cref="DeliveryCount"/> (a new instance: a message is immutable and shared).</summary>
    public QueueMessage WithDeliveryCount(int deliveryCount) =>
        new(Id, Channel, Seq, Type, Payload, TimestampMs, TtlSeconds) { DeliveryCount = deliveryCount, ReplyTo = ReplyTo, CorrelationId = CorrelationId };

    /// <summary>When the queue stored the message (UTC).</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(TimestampMs);

    /// <summary>When the message expires (UTC), or null when it never does.</summary>
    public DateTimeOffset? ExpiresAt => ExpiresAtMs == long.MaxValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(ExpiresAtMs);

    /// <summary>True when the message has expired at <paramref name="nowMs"/>.</summary>
    public bool IsExpiredAt(long nowMs) => nowMs >= ExpiresAtMs;

    /// <summary>
    /// A form of this message that a host derives once and shares between every delivery of it (a WebSocket
    /// server's wire JSON, written once however many subscribers it is pushed to). The first call runs
    /// <paramref name="encode"/> and keeps its result; later calls return that result. Thread-safe: callers that race
    /// may each run <paramref name="encode"/>, and all get the one kept. One kind per message: a caller asking for
    /// another type than the one kept gets a fresh, unkept result. The engine never reads it.
    /// </summary>
    public T GetOrAddEncoded<T>(Func<QueueMessage, T> encode)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(encode);
        var kept = Volatile.Read(ref _encoded);
        if (kept is T known)
        {
            return known;
        }

        var made = encode(this);
        return kept is null && Interlocked.CompareExchange(ref _encoded, made, null) is T other ? other : made;
    }
}
