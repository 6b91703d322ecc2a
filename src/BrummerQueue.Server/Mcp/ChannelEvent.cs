using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// One <c>notifications/claude/channel</c> event of Claude Code's channels contract (research preview): <c>content</c>
/// is text the model reads inside a <c>&lt;channel source="…"&gt;</c> tag, <c>meta</c> string attributes of that tag
/// (keys of letters, digits and underscores only; Claude Code drops other keys). brummerq's content is the message as
/// JSON (one message) or a JSON array (several), then, on their own lines, how many more wait and how many were dropped.
/// </summary>
internal static class ChannelEvent
{
    /// <summary>The experimental capability that makes Claude Code listen for channel events.</summary>
    public const string Capability = "claude/channel";

    /// <summary>The notification method of a channel event.</summary>
    public const string Method = "notifications/claude/channel";

    /// <summary>Messages listed in one event at most; the rest stay in the subscription.</summary>
    public const int MaxMessages = 10;

    /// <summary>
    /// Characters of message JSON in one event at most (the first message is always listed whole): an event lands in
    /// the model's context, so a flood of large payloads must not fill it.
    /// </summary>
    public const int MaxContentChars = 16_000;

    /// <summary>
    /// How many of <paramref name="taken"/> (oldest first) one event lists: at least one, at most
    /// <see cref="MaxMessages"/>, and no more than fit in <see cref="MaxContentChars"/>.
    /// </summary>
    public static int CountListed(IReadOnlyList<QueueMessage> taken)
    {
        var chars = 0;
        var count = 0;
        while (count < taken.Count && count < MaxMessages)
        {
            chars += EstimateChars(taken[count]);
            if (count > 0 && chars > MaxContentChars)
            {
                break;
            }

            count++;
        }

        return count;
    }

    /// <summary>
    /// The <c>params</c> of an event listing <paramref name="listed"/> (1 or more, oldest first) of subscription
    /// <paramref name="subscription"/>, with <paramref name="more"/> messages still waiting in it and
    /// <paramref name="dropped"/> lost to its full buffer since the previous read.
    /// </summary>
    public static JsonObject Params(Subscription subscription, IReadOnlyList<QueueMessage> listed, int more, long dropped)
    {
        var meta = new JsonObject
        {
            ["channel"] = subscription.Channel,
            ["subscription_id"] = subscription.Id,
            ["count"] = Text(listed.Count),
        };
        if (ChannelPattern.IsPattern(subscription.Channel))
        {
            // A pattern spans channels: meta names the messages' channel when they share one, and the pattern.
            meta["pattern"] = subscription.Channel;
            meta["channel"] = listed.All(m => m.Channel == listed[0].Channel) ? listed[0].Channel : subscription.Channel;
        }

        if (listed.Count == 1)
        {
            meta["type"] = listed[0].Type;
            meta["seq"] = Text(listed[0].Seq);
            meta["message_id"] = listed[0].Id.ToString();
        }
        else
        {
            meta["first_seq"] = Text(listed[0].Seq);
            meta["last_seq"] = Text(listed[^1].Seq);
        }

        if (more > 0)
        {
            meta["more"] = Text(more);
        }

        if (dropped > 0)
        {
            meta["dropped"] = Text(dropped);
        }

        return new JsonObject { ["content"] = Content(subscription, listed, more, dropped), ["meta"] = meta };
    }

    private static string Content(Subscription subscription, IReadOnlyList<QueueMessage> listed, int more, long dropped)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            if (listed.Count == 1)
            {
                MessageJson.WriteMessage(writer, listed[0]);
            }
            else
            {
                writer.WriteStartArray();
                foreach (var message in listed)
                {
                    MessageJson.WriteMessage(writer, message);
                }

                writer.WriteEndArray();
            }
        }

        var text = new StringBuilder(Encoding.UTF8.GetString(buffer.WrittenSpan));
        if (more > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nand {more} more waiting in subscription {subscription.Id}; read them with queue_receive {{\"subscription_id\":\"{subscription.Id}\"}}");
        }

        if (dropped > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{dropped} older messages were dropped because the subscription's buffer ({subscription.BufferSize}) was full");
        }

        return text.ToString();
    }

    // The message's JSON without its fixed parts' exact widths: close enough to bound an event's size.
    private static int EstimateChars(QueueMessage message) => 200 + message.Channel.Length + message.Type.Length + message.Payload.Utf8.Length;

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
