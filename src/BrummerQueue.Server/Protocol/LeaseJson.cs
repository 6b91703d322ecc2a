using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// The wire JSON of acknowledged receive (docs/protocol.md "Acknowledged receive"), the same on every face: the lease figures
/// of the stats, the ack result, and the parsing of an ack's <c>message_ids</c>.
/// </summary>
internal static class LeaseJson
{
    /// <summary>Writes the stats totals <c>messages_in_flight, messages_leased, messages_acked, messages_redelivered, messages_dead_lettered</c>.</summary>
    public static void WriteTotals(Utf8JsonWriter writer, LeaseFigures leases)
    {
        writer.WriteNumber("messages_in_flight"u8, leases.InFlight);
        writer.WriteNumber("messages_leased"u8, leases.Leased);
        writer.WriteNumber("messages_acked"u8, leases.Acked);
        writer.WriteNumber("messages_redelivered"u8, leases.Redelivered);
        writer.WriteNumber("messages_dead_lettered"u8, leases.DeadLettered);
    }

    /// <summary>Writes a channel's <c>in_flight, leased, acked, redelivered, dead_lettered</c>.</summary>
    public static void WriteChannel(Utf8JsonWriter writer, LeaseFigures leases)
    {
        writer.WriteNumber("in_flight"u8, leases.InFlight);
        writer.WriteNumber("leased"u8, leases.Leased);
        writer.WriteNumber("acked"u8, leases.Acked);
        writer.WriteNumber("redelivered"u8, leases.Redelivered);
        writer.WriteNumber("dead_lettered"u8, leases.DeadLettered);
    }

    /// <summary>Writes <c>{ acked, not_leased: [ids] }</c>.</summary>
    public static void WriteAckResult(Utf8JsonWriter writer, AckResult result)
    {
        writer.WriteStartObject();
        writer.WriteNumber("acked"u8, result.Acked);
        writer.WriteStartArray("not_leased"u8);
        foreach (var id in result.NotLeased)
        {
            writer.WriteStringValue(id);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Reads <c>ack_timeout</c> of a receive frame or body: a number, or null when absent (Core checks its range).</summary>
    public static double? AckTimeout(JsonElement data)
    {
        if (!data.TryGetProperty("ack_timeout"u8, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) ? seconds : throw QueueException.Invalid("ack_timeout", LeaseRules.AckTimeoutRule);
    }

    /// <summary>
    /// Reads <c>message_ids</c>: an array of 1–1000 strings. Anything else is refused with <c>invalid_argument</c> naming
    /// <c>message_ids</c> and the rule (Core checks the count again).
    /// </summary>
    public static IReadOnlyList<string> MessageIds(JsonElement? element)
    {
        const string Rule = LeaseRules.MessageIdsRule;
        if (element is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() is < 1 or > LeaseRules.MaxAckIds)
        {
            throw QueueException.Invalid("message_ids", Rule);
        }

        var ids = new List<string>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            ids.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw QueueException.Invalid("message_ids", Rule + " (strings)"));
        }

        return ids;
    }
}
