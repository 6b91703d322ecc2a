using System.Buffers.Text;
using System.Globalization;
using System.Text;
using BrummerQueue.Core;

namespace BrummerQueue.Redis;

/// <summary>
/// A blob's request/reply fields (<see cref="MessageBlob"/>): <c>r&lt;n&gt;|</c> reply_to and <c>c&lt;n&gt;|</c> correlation_id,
/// each followed by its <c>n</c> UTF-8 bytes, between the type and the payload.
/// </summary>
internal static class ReplyFields
{
    public static byte[] Encode(string? replyTo, string? correlationId)
    {
        var text = new StringBuilder();
        Append(text, 'r', replyTo);
        Append(text, 'c', correlationId);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>How many bytes the fields take at the start of <paramref name="rest"/> (the bytes after the type): 0 when none.</summary>
    public static int Length(ReadOnlySpan<byte> rest)
    {
        var length = 0;
        while (length < rest.Length && rest[length] is (byte)'r' or (byte)'c')
        {
            var end = rest[length..].IndexOf((byte)'|');
            if (end < 0 || !Utf8Parser.TryParse(rest.Slice(length + 1, end - 1), out int valueLength, out _))
            {
                throw new FormatException("a message in Redis is not in the store's format");
            }

            length += end + 1 + valueLength;
        }

        return length;
    }

    public static QueueMessage Decode(QueueMessage message, ReadOnlySpan<byte> fields)
    {
        string? replyTo = null;
        string? correlationId = null;
        while (!fields.IsEmpty)
        {
            var kind = fields[0];
            var end = fields.IndexOf((byte)'|');
            if (end < 0 || !Utf8Parser.TryParse(fields[1..end], out int length, out _))
            {
                throw new FormatException("a message in Redis is not in the store's format");
            }

            var value = Encoding.UTF8.GetString(fields.Slice(end + 1, length));
            fields = fields[(end + 1 + length)..];
            switch (kind)
            {
                case (byte)'r':
                    replyTo = value;
                    break;
                case (byte)'c':
                    correlationId = value;
                    break;
            }
        }

        return new QueueMessage(message.Id, message.Channel, message.Seq, message.Type, message.Payload, message.TimestampMs, message.TtlSeconds)
        {
            ReplyTo = replyTo,
            CorrelationId = correlationId,
        };
    }

    private static void Append(StringBuilder text, char kind, string? value)
    {
        if (value is not null)
        {
            text.Append(kind).Append(Encoding.UTF8.GetByteCount(value).ToString(CultureInfo.InvariantCulture)).Append('|').Append(value);
        }
    }
}
