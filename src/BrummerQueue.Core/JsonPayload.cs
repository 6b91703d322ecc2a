using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace BrummerQueue.Core;

/// <summary>
/// A message payload: exactly one JSON value, held as UTF-8 bytes. The default value is JSON <c>null</c>.
/// The queue checks the payload rule of SPEC.md section 1 once, when the message is sent
/// (<see cref="IMessageQueue.Send"/>), and stores the bytes as they are: non-ASCII text is never
/// re-escaped. Immutable and thread-safe as long as the caller does not change the bytes it handed over.
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

    /// <summary>
    /// Wraps the sender's bytes without copying or checking them: the queue checks the payload rule
    /// (<see cref="QueueOptions.MaxPayloadDepth"/> included) once, when the message is sent. This is how
    /// a face hands a payload over. Empty input is no JSON value and is refused here (an empty payload
    /// would otherwise read as the default, JSON null).
    /// </summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> when <paramref name="utf8"/> is empty.</exception>
    public static JsonPayload FromUtf8(ReadOnlyMemory<byte> utf8) =>
        utf8.IsEmpty ? throw QueueException.Invalid(PayloadRule.Field, PayloadRule.NotJson) : new(utf8);

    /// <summary>
    /// Checks <paramref name="utf8"/> against the payload rule (one JSON value, UTF-8, no lone surrogate
    /// escape, at most <see cref="QueueOptions.MaxPayloadDepthLimit"/> levels) and wraps it without copying.
    /// The queue still checks the depth it is configured with when the message is sent.
    /// </summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> naming the broken clause.</exception>
    public static JsonPayload Parse(ReadOnlyMemory<byte> utf8)
    {
        PayloadRule.Check(utf8.Span, QueueOptions.MaxPayloadDepthLimit);
        return new JsonPayload(utf8);
    }

    /// <summary>Checks <paramref name="json"/> as <see cref="Parse(ReadOnlyMemory{byte})"/> does.</summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> naming the broken clause.</exception>
    public static JsonPayload Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>
    /// Copies the raw UTF-8 text of an element exactly as the sender wrote it, so non-ASCII text is not
    /// re-escaped. Like <see cref="FromUtf8"/>, it does not check the payload rule: the queue does, at send.
    /// </summary>
    public static JsonPayload FromElement(JsonElement element) =>
        element.ValueKind == JsonValueKind.Undefined
            ? default
            : new JsonPayload(JsonMarshal.GetRawUtf8Value(element).ToArray());

    /// <summary>Checks the payload rule with <paramref name="maxDepth"/>; JSON null (the default) always passes.</summary>
    internal void Check(int maxDepth)
    {
        if (!_utf8.IsEmpty)
        {
            PayloadRule.Check(_utf8.Span, maxDepth);
        }
    }

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
}
