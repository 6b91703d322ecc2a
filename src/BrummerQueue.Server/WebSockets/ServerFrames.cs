using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Serializes the frames the server sends: <c>{ "type": ..., "id"?: ..., "data"?: {...} }</c>.
/// <c>id</c> is echoed as the client sent it (a string, or a number written back as one).
/// </summary>
internal static class ServerFrames
{
    public const string ServerName = "brummerq";

    public static byte[] Connected(string clientId, ServerIdentity identity) =>
        Build("connected", null, (clientId, identity), static (w, s) =>
        {
            w.WriteString("server"u8, ServerName);
            w.WriteString("version"u8, s.identity.Version);
            w.WriteString("client_id"u8, s.clientId);
            w.WriteString("instance_id"u8, s.identity.InstanceId);
        });

    public static byte[] Ack(string? id, SendResult result) =>
        Build("ack", id, result, static (w, r) =>
        {
            w.WriteString("message_id"u8, r.Message.Id);
            w.WriteNumber("seq"u8, r.Message.Seq);
            w.WriteString("channel"u8, r.Message.Channel);
            w.WriteNumber("delivered_to"u8, r.DeliveredTo);
        });

    public static byte[] Subscribed(string? id, Subscription subscription) =>
        Build("subscribed", id, subscription, static (w, s) =>
        {
            w.WriteString("subscription_id"u8, s.Id);
            w.WriteString("channel"u8, s.Channel);
            w.WriteNumber("buffer_size"u8, s.BufferSize);
            if (!ChannelPattern.IsPattern(s.Channel))
            {
                // A pattern spans channels, each with its own epoch: its reply has none (docs/protocol.md).
                w.WriteString("epoch"u8, s.Epoch);
            }

            if (s.Recovered is { } recovered)
            {
                w.WriteBoolean("recovered"u8, recovered);
            }
        });

    public static byte[] Unsubscribed(string? id, string subscriptionId) =>
        Build("unsubscribed", id, subscriptionId, static (w, s) => w.WriteString("subscription_id"u8, s));

    public static byte[] Messages(string? id, IReadOnlyList<QueueMessage> messages) =>
        Build("messages", id, messages, static (w, m) =>
        {
            MessageJson.WriteMessageArray(w, "messages"u8, m);
            w.WriteNumber("count"u8, m.Count);
        });

    /// <summary>The answer to <c>queue_request</c>: <c>{ message: the reply, request_id, delivered_to }</c>.</summary>
    public static byte[] Reply(string? id, SendResult request, QueueMessage reply) =>
        Build("reply", id, (request, reply), static (w, r) =>
        {
            w.WritePropertyName("message"u8);
            MessageJson.WriteMessage(w, r.reply);
            w.WriteString("request_id"u8, r.request.Message.Id);
            w.WriteNumber("delivered_to"u8, r.request.DeliveredTo);
        });

    public static byte[] Pong(string? id) => Build<object?>("pong", id, null, null);

    public static byte[] Error(string? id, string code, string message, string? field) =>
        Build("error", id, (code, message, field), static (w, e) =>
        {
            w.WriteString("code"u8, e.code);
            w.WriteString("message"u8, e.message);
            if (e.field is not null)
            {
                w.WriteString("field"u8, e.field);
            }
        });

    /// <summary>
    /// The start of every push of one subscription, up to its message: <c>{"type":"queue_message","data":{"subscription_id":"…","message":</c>.
    /// Made once per subscription (<see cref="SocketSubscription.PushHead"/>).
    /// </summary>
    public static byte[] PushHead(string subscriptionId)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var w = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "queue_message"u8);
            w.WritePropertyName("data"u8);
            w.WriteStartObject();
            w.WriteString("subscription_id"u8, subscriptionId);
            w.WritePropertyName("message"u8);
            w.WriteNullValue();
        }

        return buffer.WrittenSpan[..^"null"u8.Length].ToArray();
    }

    /// <summary>
    /// Writes a push, <c>{"type":"queue_message","data":{"subscription_id","message","dropped"?}}</c>, into
    /// <paramref name="buffer"/> (reused by the socket's writer) by copying: the subscription's
    /// <paramref name="pushHead"/>, the message's JSON written once for all its pushes (<see cref="EncodedMessage"/>),
    /// and <c>dropped</c> when above 0. Allocates nothing once the message's JSON exists and the buffer is large enough.
    /// </summary>
    public static void WritePush(IBufferWriter<byte> buffer, ReadOnlySpan<byte> pushHead, QueueMessage message, long dropped)
    {
        buffer.Write(pushHead);
        EncodedMessage.Of(message).CopyTo(buffer, message.Payload);
        if (dropped > 0)
        {
            buffer.Write(",\"dropped\":"u8);
            var digits = buffer.GetSpan(20);
            var formatted = Utf8Formatter.TryFormat(dropped, digits, out var written);
            Debug.Assert(formatted, "a long fits in 20 bytes");
            buffer.Advance(written);
        }

        buffer.Write("}}"u8);
    }

    internal static byte[] Build<TState>(string type, string? id, TState state, Action<Utf8JsonWriter, TState>? writeData)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, type);
            if (id is not null)
            {
                w.WritePropertyName("id"u8);
                w.WriteRawValue(id, skipInputValidation: true);
            }

            if (writeData is not null)
            {
                w.WritePropertyName("data"u8);
                w.WriteStartObject();
                writeData(w, state);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
