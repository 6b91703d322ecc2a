using System.Text;

namespace BrummerQueue.Core;

/// <summary>
/// The dead-letter rule of acknowledged receive (docs/protocol.md "Acknowledged receive"), used by every store: where a
/// message goes after <see cref="QueueOptions.MaxDeliveries"/> unacknowledged deliveries and what it looks like there.
/// Thread-safe (pure functions).
/// </summary>
public static class DeadLetters
{
    /// <summary>The suffix of a dead-letter channel's name.</summary>
    public const string Suffix = ".dead";

    /// <summary>The <c>reason</c> of a message dead-lettered because it was delivered too often.</summary>
    public const string MaxDeliveriesReason = "max_deliveries";

    /// <summary>
    /// The dead-letter channel of <paramref name="channel"/>: <c>&lt;channel&gt;.dead</c>; a name so long that the suffix
    /// would pass 128 characters is cut to 123 characters first (so two such channels may share one).
    /// </summary>
    public static string ChannelFor(string channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var keep = Math.Min(channel.Length, 128 - Suffix.Length);
        return string.Concat(channel.AsSpan(0, keep), Suffix);
    }

    /// <summary>
    /// The dead letter of <paramref name="message"/>, delivered <paramref name="deliveries"/> times: the original type, and
    /// the payload <c>{"reason":"max_deliveries","channel","message_id","seq","delivery_count","payload"}</c> with the
    /// original payload's bytes unchanged inside. Its TTL is the original's.
    /// </summary>
    public static MessageDraft Draft(QueueMessage message, int deliveries)
    {
        ArgumentNullException.ThrowIfNull(message);
        var head = $"{{\"reason\":\"{MaxDeliveriesReason}\",\"channel\":\"{message.Channel}\",\"message_id\":\"{message.Id:D}\",\"seq\":{message.Seq},\"delivery_count\":{deliveries},\"payload\":";
        var headBytes = Encoding.UTF8.GetBytes(head);
        var bytes = new byte[headBytes.Length + message.Payload.Length + 1];
        headBytes.CopyTo(bytes, 0);
        message.Payload.Utf8.Span.CopyTo(bytes.AsSpan(headBytes.Length));
        bytes[^1] = (byte)'}';
        return new MessageDraft(message.Type, JsonPayload.FromUtf8(bytes), message.TtlSeconds);
    }
}
