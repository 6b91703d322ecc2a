using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// Writes the wire JSON of messages, channel lists and stats, the same on every surface (MCP,
/// WebSocket, HTTP, CLI): snake_case, RFC 3339 UTC timestamps with milliseconds, payload written raw.
/// </summary>
internal static class MessageJson
{
    /// <summary>Writes <c>{ id, channel, seq, type, payload, timestamp, ttl, expires_at, reply_to?, correlation_id? }</c>.</summary>
    public static void WriteMessage(Utf8JsonWriter writer, QueueMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, message.Id);
        writer.WriteString("channel"u8, message.Channel);
        writer.WriteNumber("seq"u8, message.Seq);
        writer.WriteString("type"u8, message.Type);
        writer.WritePropertyName("payload"u8);
        writer.WriteRawValue(message.Payload.Utf8.Span, skipInputValidation: true);
        WriteTimestamp(writer, "timestamp"u8, message.TimestampMs);
        writer.WriteNumber("ttl"u8, message.TtlSeconds);
        if (message.ExpiresAtMs == long.MaxValue)
        {
            writer.WriteNull("expires_at"u8);
        }
        else
        {
            WriteTimestamp(writer, "expires_at"u8, message.ExpiresAtMs);
        }

        if (message.DeliveryCount > 0)
        {
            // Acknowledged receive (docs/protocol.md): written only for a message that came back from an ended lease.
            writer.WriteNumber("delivery_count"u8, message.DeliveryCount);
        }

        WriteReplyFields(writer, message);
        writer.WriteEndObject();
    }

    /// <summary>Request/reply's <c>reply_to</c> and <c>correlation_id</c>, written only when the message has them.</summary>
    private static void WriteReplyFields(Utf8JsonWriter writer, QueueMessage message)
    {
        if (message.ReplyTo is { } replyTo)
        {
            writer.WriteString("reply_to"u8, replyTo);
        }

        if (message.CorrelationId is { } correlationId)
        {
            writer.WriteString("correlation_id"u8, correlationId);
        }
    }

    /// <summary>Writes <c>"name": [messages...]</c>.</summary>
    public static void WriteMessageArray(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyList<QueueMessage> messages)
    {
        writer.WritePropertyName(name);
        writer.WriteStartArray();
        foreach (var message in messages)
        {
            WriteMessage(writer, message);
        }

        writer.WriteEndArray();
    }

    /// <summary>Writes <c>{ channels: [{ name, epoch, messages, subscriptions, last_seq }] }</c>.</summary>
    public static void WriteChannelList(Utf8JsonWriter writer, IReadOnlyList<ChannelInfo> channels)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("channels"u8);
        writer.WriteStartArray();
        foreach (var channel in channels)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, channel.Name);
            writer.WriteString("epoch"u8, channel.Epoch);
            writer.WriteNumber("messages"u8, channel.Messages);
            writer.WriteNumber("subscriptions"u8, channel.Subscriptions);
            writer.WriteNumber("last_seq"u8, channel.LastSeq);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes the stats object of SPEC.md section 2 (<c>queue_stats</c>), each channel with its <c>epoch</c>.</summary>
    public static void WriteStats(Utf8JsonWriter writer, QueueStats stats)
    {
        writer.WriteStartObject();
        writer.WriteNumber("total_messages"u8, stats.TotalMessages);
        writer.WriteNumber("total_channels"u8, stats.TotalChannels);
        writer.WriteNumber("total_subscriptions"u8, stats.TotalSubscriptions);
        writer.WriteNumber("total_bytes"u8, stats.TotalBytes);
        writer.WriteNumber("messages_sent"u8, stats.MessagesSent);
        writer.WriteNumber("messages_consumed"u8, stats.MessagesConsumed);
        writer.WriteNumber("messages_expired"u8, stats.MessagesExpired);
        writer.WriteNumber("messages_dropped"u8, stats.MessagesDropped);
        writer.WriteNumber("messages_delivered"u8, stats.MessagesDelivered);
        LeaseJson.WriteTotals(writer, stats.Leases);
        writer.WriteNumber("uptime_seconds"u8, stats.UptimeSeconds);
        writer.WritePropertyName("channels"u8);
        writer.WriteStartObject();
        foreach (var (name, channel) in stats.Channels)
        {
            writer.WritePropertyName(name);
            writer.WriteStartObject();
            writer.WriteString("epoch"u8, channel.Epoch);
            writer.WriteNumber("messages"u8, channel.Messages);
            writer.WriteNumber("subscriptions"u8, channel.Subscriptions);
            writer.WriteNumber("sent"u8, channel.Sent);
            writer.WriteNumber("consumed"u8, channel.Consumed);
            writer.WriteNumber("expired"u8, channel.Expired);
            writer.WriteNumber("dropped"u8, channel.Dropped);
            writer.WriteNumber("delivered"u8, channel.Delivered);
            LeaseJson.WriteChannel(writer, channel.Leases);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WritePropertyName("subscriptions"u8);
        writer.WriteStartArray();
        foreach (var subscription in stats.Subscriptions)
        {
            WriteSubscription(writer, subscription);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes <c>{ id, channel, owner, created_at, last_read_at, buffered, dropped, reading, idle_expires_at }</c>.
    /// <c>owner</c> is the kind (<see cref="SubscriptionOwner.KindOf"/>). <c>id</c> is null for a subscription without
    /// owner: its id is all a client needs to read or end it, so only its maker should know it.
    /// </summary>
    private static void WriteSubscription(Utf8JsonWriter writer, SubscriptionStats subscription)
    {
        writer.WriteStartObject();
        if (subscription.Owner is null)
        {
            writer.WriteNull("id"u8);
        }
        else
        {
            writer.WriteString("id"u8, subscription.Id);
        }

        writer.WriteString("channel"u8, subscription.Channel);
        writer.WriteString("owner"u8, SubscriptionOwner.KindOf(subscription.Owner));
        WriteTimestamp(writer, "created_at"u8, subscription.CreatedAt.ToUnixTimeMilliseconds());
        WriteTimestamp(writer, "last_read_at"u8, subscription.LastReadAt.ToUnixTimeMilliseconds());
        writer.WriteNumber("buffered"u8, subscription.Buffered);
        writer.WriteNumber("dropped"u8, subscription.Dropped);
        writer.WriteBoolean("reading"u8, subscription.Reading);
        if (subscription.IdleExpiresAt is { } idle)
        {
            WriteTimestamp(writer, "idle_expires_at"u8, idle.ToUnixTimeMilliseconds());
        }
        else
        {
            writer.WriteNull("idle_expires_at"u8);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes an RFC 3339 UTC timestamp with milliseconds, e.g. <c>2025-01-31T12:00:00.000Z</c>, formatted
    /// straight into UTF-8 on the stack (every message on every surface has one or two: no string per value).
    /// </summary>
    private static void WriteTimestamp(Utf8JsonWriter writer, ReadOnlySpan<byte> name, long unixMs)
    {
        Span<byte> utf8 = stackalloc byte[32];
        var formatted = DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.TryFormat(utf8, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        Debug.Assert(formatted, "24 bytes fit");
        writer.WriteString(name, utf8[..written]);
    }
}
