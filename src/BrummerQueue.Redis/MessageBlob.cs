using System.Buffers.Text;
using System.Globalization;
using System.Text;
using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// A message as Redis holds it: <c>plen|exp|seq|ts|ttl|id|tlen|</c> then the type's and the payload's UTF-8 bytes.
/// <c>plen</c> (payload bytes, the byte budget) and <c>exp</c> (expiry, Unix ms, 0 = never) lead so the scripts read
/// them with one pattern; the send script writes <c>plen|exp|seq|</c> in front of the tail this type makes, as it
/// chooses the seq. Request/reply's <c>reply_to</c> and <c>correlation_id</c>, when set, sit between the type and the
/// payload as <c>r&lt;n&gt;|</c> and <c>c&lt;n&gt;|</c> each followed by their <c>n</c> UTF-8 bytes (neither letter can start a
/// JSON value, so a reader tells them from the payload); blobs without them (and the scripts, which read only the leading
/// numbers) are unchanged. In a pattern subscription's buffer the channel's name follows the payload's <c>plen</c> bytes.
/// </summary>
internal static class MessageBlob
{
    /// <summary>The part after the seq: <c>ts|ttl|id|tlen|</c> type payload.</summary>
    public static byte[] Tail(long timestampMs, int ttlSeconds, Guid id, string type, JsonPayload payload, string? replyTo = null, string? correlationId = null)
    {
        var typeBytes = Encoding.UTF8.GetBytes(type);
        var fields = replyTo is null && correlationId is null ? [] : ReplyFields.Encode(replyTo, correlationId);
        var head = string.Create(CultureInfo.InvariantCulture, $"{timestampMs}|{ttlSeconds}|{id:N}|{typeBytes.Length}|");
        var tail = new byte[head.Length + typeBytes.Length + fields.Length + payload.Length];
        Encoding.ASCII.GetBytes(head, tail);
        typeBytes.CopyTo(tail, head.Length);
        fields.CopyTo(tail, head.Length + typeBytes.Length);
        payload.Utf8.Span.CopyTo(tail.AsSpan(head.Length + typeBytes.Length + fields.Length));
        return tail;
    }

    /// <summary>The whole blob of a stored message (for a put-back).</summary>
    public static byte[] Full(QueueMessage message)
    {
        var tail = Tail(message.TimestampMs, message.TtlSeconds, message.Id, message.Type, message.Payload, message.ReplyTo, message.CorrelationId);
        var exp = message.ExpiresAtMs == long.MaxValue ? 0 : message.ExpiresAtMs;
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{message.Payload.Length}|{exp}|{message.Seq}|"));
        var blob = new byte[head.Length + tail.Length];
        head.CopyTo(blob, 0);
        tail.CopyTo(blob, head.Length);
        return blob;
    }

    /// <summary>The blob of a stored message followed by its channel's name, as a pattern subscription's buffer holds it (for a put-back).</summary>
    public static byte[] FullTagged(QueueMessage message) => [.. Full(message), .. Encoding.UTF8.GetBytes(message.Channel)];

    public static QueueMessage Decode(string channel, RedisValue value) => Decode(channel, (byte[])value!);

    /// <summary>Decodes an entry of a pattern subscription's buffer: the blob, then the name of the channel it was sent to.</summary>
    public static QueueMessage DecodeTagged(RedisValue value) => Decode(null, (byte[])value!);

    private static QueueMessage Decode(string? channel, byte[] blob)
    {
        var span = blob.AsSpan();
        var position = 0;
        var payloadLength = (int)Number(span, ref position);
        Number(span, ref position); // exp
        var seq = Number(span, ref position);
        var timestamp = Number(span, ref position);
        var ttl = (int)Number(span, ref position);
        var id = Guid.ParseExact(Encoding.ASCII.GetString(span.Slice(position, 32)), "N");
        position += 33;
        var typeLength = (int)Number(span, ref position);
        var type = Encoding.UTF8.GetString(span.Slice(position, typeLength));
        position += typeLength;
        var fieldsLength = ReplyFields.Length(span[position..]);
        var payloadAt = position + fieldsLength;
        var payloadEnd = payloadAt + payloadLength;
        var payload = JsonPayload.FromUtf8(blob.AsMemory(payloadAt, payloadLength));
        channel ??= Encoding.UTF8.GetString(blob, payloadEnd, blob.Length - payloadEnd);
        var message = new QueueMessage(id, channel, seq, type, payload, timestamp, ttl);
        return fieldsLength == 0 ? message : ReplyFields.Decode(message, span.Slice(position, fieldsLength));
    }

    private static long Number(ReadOnlySpan<byte> span, ref int position)
    {
        var end = span[position..].IndexOf((byte)'|');
        if (!Utf8Parser.TryParse(span.Slice(position, end), out long value, out _))
        {
            throw new FormatException("a message in Redis is not in the store's format");
        }

        position += end + 1;
        return value;
    }
}
