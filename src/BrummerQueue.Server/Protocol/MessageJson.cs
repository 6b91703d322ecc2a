using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// The wire form of a message, shared by MCP, WebSocket, HTTP and CLI:
/// <c>{ id, channel, seq, type, payload, timestamp, ttl, expires_at }</c>, timestamps RFC 3339 UTC
/// with milliseconds, <c>expires_at</c> null when the message never expires, payload written raw.
/// </summary>
internal static class MessageJson
{
    /// <summary>Writes <paramref name="message"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, QueueMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("id", message.Id.ToString());
        writer.WriteString("channel", message.Channel);
        writer.WriteNumber("seq", message.Seq);
        writer.WriteString("type", message.Type);
        writer.WritePropertyName("payload");
        writer.WriteRawValue(message.Payload.Utf8.Span, skipInputValidation: true);
        writer.WriteString("timestamp", FormatTimestamp(message.Timestamp));
        writer.WriteNumber("ttl", message.TtlSeconds);
        if (message.ExpiresAt is { } expiresAt)
        {
            writer.WriteString("expires_at", FormatTimestamp(expiresAt));
        }
        else
        {
            writer.WriteNull("expires_at");
        }

        writer.WriteEndObject();
    }

    /// <summary>RFC 3339 UTC with milliseconds, e.g. <c>2025-01-31T12:00:00.000Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
