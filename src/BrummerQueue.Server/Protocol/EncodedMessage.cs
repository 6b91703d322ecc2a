using System.Buffers;
using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// A message's wire JSON (<see cref="MessageJson.WriteMessage"/>), written once per message and shared by every
/// push of it: the text before the payload and the text after it, so that the payload's bytes are not held twice.
/// Kept on the message itself (<see cref="QueueMessage.GetOrAddEncoded{T}"/>).
/// </summary>
internal sealed class EncodedMessage
{
    private static readonly Func<QueueMessage, EncodedMessage> s_encode = Encode;

    private readonly byte[] _text;
    private readonly int _payloadAt;

    private EncodedMessage(byte[] text, int payloadAt)
    {
        _text = text;
        _payloadAt = payloadAt;
    }

    /// <summary>The text up to the payload: <c>{"id":…,"channel":…,"seq":…,"type":…,"payload":</c>.</summary>
    public ReadOnlySpan<byte> Head => _text.AsSpan(0, _payloadAt);

    /// <summary>The text after the payload: <c>,"timestamp":…,"ttl":…,"expires_at":…}</c>.</summary>
    public ReadOnlySpan<byte> Tail => _text.AsSpan(_payloadAt);

    /// <summary>The encoding of <paramref name="message"/>, made by the first caller.</summary>
    public static EncodedMessage Of(QueueMessage message) => message.GetOrAddEncoded(s_encode);

    /// <summary>Copies the whole message JSON (head, payload, tail) into <paramref name="buffer"/>.</summary>
    public void CopyTo(IBufferWriter<byte> buffer, JsonPayload payload)
    {
        buffer.Write(Head);
        buffer.Write(payload.Utf8.Span);
        buffer.Write(Tail);
    }

    private static EncodedMessage Encode(QueueMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + message.Payload.Utf8.Length);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            MessageJson.WriteMessage(writer, message);
        }

        // The payload follows the first "payload": (a string value cannot hold an unescaped quote before a colon)
        // and is written raw, byte for byte; cut it out.
        var written = buffer.WrittenSpan;
        var payloadAt = written.IndexOf("\"payload\":"u8) + "\"payload\":"u8.Length;
        var payloadLength = message.Payload.Utf8.Length;
        var text = new byte[written.Length - payloadLength];
        written[..payloadAt].CopyTo(text);
        written[(payloadAt + payloadLength)..].CopyTo(text.AsSpan(payloadAt));
        return new EncodedMessage(text, payloadAt);
    }
}
