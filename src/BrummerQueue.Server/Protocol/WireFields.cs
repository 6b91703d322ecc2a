using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// Reads typed fields from a request's JSON object (a WebSocket frame's <c>data</c>, an HTTP body).
/// A field that is absent or JSON <c>null</c> counts as omitted. A field of the wrong kind throws
/// <see cref="QueueException"/> with code <c>invalid_argument</c> naming the field and the rule, in
/// the same words as the engine (e.g. <c>ttl must be an integer between 0 and 604800</c>).
/// A field that the request does not take is refused (<see cref="RejectUnknown"/>), as MCP refuses
/// an unknown argument, so a typo such as <c>paylod</c> is an error instead of a silent default.
/// </summary>
internal static class WireFields
{
    /// <summary>The fields of a send's message: an HTTP body, and with <c>channel</c> a WebSocket <c>queue_message</c>.</summary>
    public static readonly string[] DraftFields = ["type", "payload", "ttl", "reply_to", "correlation_id"];

    /// <summary>The rule of <c>since_seq</c>, as every face states it.</summary>
    public const string SinceSeqRule = "since_seq must be an integer of at least 0";

    /// <summary>The rule a string with an escaped lone surrogate breaks, in the words every face uses.</summary>
    public const string LoneSurrogateRule = @"no lone surrogate escape such as \ud83d";

    /// <summary>An unknown name longer than this is shortened in the error text.</summary>
    private const int MaxQuotedNameLength = 64;

    /// <summary>
    /// Throws <c>invalid_argument</c> for the first field of <paramref name="obj"/> that is not in
    /// <paramref name="allowed"/>: <c>unknown field 'paylod'; expected: type, payload, ttl, reply_to, correlation_id</c>, with
    /// <see cref="QueueException.Field"/> the unknown name (as MCP names an unknown argument).
    /// </summary>
    public static void RejectUnknown(JsonElement obj, params string[] allowed)
    {
        RejectNamesThatAreNotText(obj);
        foreach (var property in obj.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                var name = property.Name.Length <= MaxQuotedNameLength ? property.Name : property.Name[..MaxQuotedNameLength] + "…";
                var expected = allowed.Length == 0 ? "it takes no fields" : "expected: " + string.Join(", ", allowed);
                throw QueueException.Invalid(name, $"unknown field '{name}'; {expected}");
            }
        }
    }

    public static string? GetString(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw QueueException.Invalid(name, $"{name} must be a string");
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // Bytes that are not UTF-8, or an escape of half a surrogate pair: no text at all. Say which.
            var text = JsonMarshal.GetRawUtf8Value(value)[1..^1];
            throw QueueException.Invalid(name, TryFindInvalidUtf8(text, out var where)
                ? $"{name} must be valid UTF-8 text: {where} of the string does not start a valid UTF-8 sequence"
                : $"{name} must be valid Unicode text ({LoneSurrogateRule})");
        }
    }

    /// <summary>
    /// Throws <c>invalid_argument</c> for a field name of <paramref name="obj"/> that is not text (bytes that
    /// are not UTF-8, or an escape of half a surrogate pair), with <see cref="QueueException.Field"/> the name as written. Call it before
    /// looking fields up: <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> throws on such an object.
    /// </summary>
    public static void RejectNamesThatAreNotText(JsonElement obj)
    {
        foreach (var property in obj.EnumerateObject())
        {
            try
            {
                _ = property.Name;
            }
            catch (InvalidOperationException)
            {
                // The name as the client escaped it (a byte that is not UTF-8 shows as U+FFFD).
                var raw = JsonMarshal.GetRawUtf8PropertyName(property);
                var name = Encoding.UTF8.GetString(raw);
                name = name.Length <= MaxQuotedNameLength ? name : name[..MaxQuotedNameLength] + "…";
                throw QueueException.Invalid(name, TryFindInvalidUtf8(raw, out var where)
                    ? $"field name '{name}' is not valid UTF-8 text: {where} of the name does not start a valid UTF-8 sequence"
                    : $"field name '{name}' is not valid Unicode text ({LoneSurrogateRule})");
            }
        }
    }

    public static string RequireString(JsonElement obj, string name, string rule) =>
        GetString(obj, name) ?? throw QueueException.Invalid(name, $"{name} is required and {rule}");

    public static bool? GetBool(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw QueueException.Invalid(name, $"{name} must be true or false"),
        };
    }

    /// <summary>An integer field; out of [min, max] or not a whole number gives the engine's range message.</summary>
    public static long? GetInteger(JsonElement obj, string name, long min, long max)
    {
        if (!TryGet(obj, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < min || number > max)
        {
            throw QueueException.OutOfRange(name, min, max);
        }

        return number;
    }

    /// <summary>A number of seconds in [0, max].</summary>
    public static double? GetSeconds(JsonElement obj, string name, double max)
    {
        if (!TryGet(obj, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number < 0 || number > max)
        {
            throw QueueException.Invalid(name, $"{name} must be a number of seconds between 0 and {max}");
        }

        return number;
    }

    /// <summary>
    /// The resume position of a subscribe (SPEC.md section 1 "Resume"): <c>since_seq</c> (an integer of at least 0) and
    /// <c>epoch</c> (a string; its shape and that it needs <c>since_seq</c> are Core's rule, <see cref="ChannelEpoch.Validate"/>).
    /// </summary>
    public static (long? SinceSeq, string? Epoch) GetResume(JsonElement obj)
    {
        long? sinceSeq;
        try
        {
            sinceSeq = GetInteger(obj, "since_seq", 0, long.MaxValue);
        }
        catch (QueueException)
        {
            throw QueueException.Invalid("since_seq", SinceSeqRule);
        }

        return (sinceSeq, GetString(obj, "epoch"));
    }

    /// <summary>The payload: any JSON value; absent means JSON null.</summary>
    public static JsonPayload GetPayload(JsonElement obj) =>
        obj.TryGetProperty("payload", out var value) ? JsonPayload.FromElement(value) : JsonPayload.Null;

    /// <summary>The message fields <c>type</c>, <c>payload</c>, <c>ttl</c> of a send.</summary>
    public static MessageDraft GetDraft(JsonElement obj, QueueOptions options) =>
        new(GetString(obj, "type"), GetPayload(obj), GetInteger(obj, "ttl", 0, options.MaxTtlSeconds)) { ReplyTo = GetString(obj, "reply_to"), CorrelationId = GetString(obj, "correlation_id") };

    /// <summary>
    /// Finds the first byte of a string's raw text that does not start a valid UTF-8 sequence, as
    /// <c>byte 1 (0xE9)</c> counted from the string's first byte; false when the text is UTF-8.
    /// </summary>
    private static bool TryFindInvalidUtf8(ReadOnlySpan<byte> raw, out string where)
    {
        var at = 0;
        while (at < raw.Length && Rune.DecodeFromUtf8(raw[at..], out _, out var consumed) == OperationStatus.Done)
        {
            at += consumed;
        }

        where = at < raw.Length ? $"byte {at} (0x{raw[at].ToString("X2", CultureInfo.InvariantCulture)})" : string.Empty;
        return at < raw.Length;
    }

    private static bool TryGet(JsonElement obj, string name, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
}
