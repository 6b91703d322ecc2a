using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace BrummerQueue.Core;

/// <summary>
/// A message payload: exactly one JSON value, held as UTF-8 bytes. The default value is JSON <c>null</c>.
/// Instances are only made from validated or already-parsed JSON, so the queue stores them without
/// parsing again. Immutable and thread-safe as long as the caller does not change the bytes it handed over.
/// </summary>
public readonly struct JsonPayload : IEquatable<JsonPayload>
{
    private static readonly byte[] s_null = "null"u8.ToArray();
    private readonly ReadOnlyMemory<byte> _utf8;

    private JsonPayload(ReadOnlyMemory<byte> utf8) => _utf8 = utf8;

    /// <summary>JSON <c>null</c>, the payload of a message sent without one.</summary>
    public static JsonPayload Null => default;

    /// <summary>The JSON text as UTF-8 bytes.</summary>
    public ReadOnlyMemory<byte> Utf8 => _utf8.IsEmpty ? s_null : _utf8;

    /// <summary>Length of the JSON text in UTF-8 bytes.</summary>
    public int Length => _utf8.IsEmpty ? s_null.Length : _utf8.Length;

    /// <summary>Validates <paramref name="utf8"/> as exactly one JSON value and wraps it without copying.</summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> when it is not one JSON value.</exception>
    public static JsonPayload Parse(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8.Span, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read())
            {
                throw Invalid();
            }

            reader.Skip();
            if (reader.Read())
            {
                throw Invalid();
            }
        }
        catch (JsonException)
        {
            throw Invalid();
        }

        return new JsonPayload(utf8);
    }

    /// <summary>Validates <paramref name="json"/> as exactly one JSON value.</summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> when it is not one JSON value.</exception>
    public static JsonPayload Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>
    /// Wraps an already-parsed element (no validation needed); copies its raw UTF-8 text exactly as
    /// the sender wrote it, so non-ASCII text is not re-escaped.
    /// </summary>
    public static JsonPayload FromElement(JsonElement element) =>
        element.ValueKind == JsonValueKind.Undefined
            ? default
            : new JsonPayload(JsonMarshal.GetRawUtf8Value(element).ToArray());

    /// <summary>The JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(Utf8.Span);

    /// <summary>True when both hold the same JSON text byte for byte.</summary>
    public bool Equals(JsonPayload other) => Utf8.Span.SequenceEqual(other.Utf8.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is JsonPayload other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Utf8.Span);
        return hash.ToHashCode();
    }

    /// <summary>Byte-wise equality.</summary>
    public static bool operator ==(JsonPayload left, JsonPayload right) => left.Equals(right);

    /// <summary>Byte-wise inequality.</summary>
    public static bool operator !=(JsonPayload left, JsonPayload right) => !left.Equals(right);

    private static QueueException Invalid() => QueueException.Invalid("payload", "payload must be a single valid JSON value");
}
