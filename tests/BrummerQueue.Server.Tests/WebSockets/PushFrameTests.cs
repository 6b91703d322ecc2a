using System.Buffers;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>A push frame is the message's JSON, written once and shared, plus the subscription's part.</summary>
public sealed class PushFrameTests
{
    private static readonly Guid s_id = Guid.Parse("01942f3e-8c00-7000-8000-000000000001");

    public static TheoryData<string, string, int, long> Messages => new()
    {
        { "message", "null", 3600, 0 },
        { "größe \"quoted\" 😀", """{"title":"こんにちは","n":[1,2,{"deep":true}]}""", 0, 7 },
        { "t", "\"\\u00e9 as sent\"", 60, long.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void WritePush_AnyMessage_SameJsonAsWrittenFieldByField(string type, string payload, int ttl, long dropped)
    {
        var message = new QueueMessage(s_id, "app.events", 42, type, JsonPayload.Parse(payload), 1_738_324_800_123, ttl);
        var buffer = new ArrayBufferWriter<byte>();

        ServerFrames.WritePush(buffer, ServerFrames.PushHead("sub-1"), message, dropped);

        Assert.Equal(Expected("sub-1", message, dropped), Encoding.UTF8.GetString(buffer.WrittenSpan));
        using var parsed = JsonDocument.Parse(buffer.WrittenMemory);
        Assert.Equal(payload, parsed.RootElement.GetProperty("data").GetProperty("message").GetProperty("payload").GetRawText());
    }

    [Fact]
    public void EncodedMessage_ManyPushes_WrittenOnceAndShared()
    {
        var message = new QueueMessage(s_id, "c", 1, "message", JsonPayload.Parse("[1]"), 1_738_324_800_000, 0);

        var first = EncodedMessage.Of(message);

        Assert.Same(first, EncodedMessage.Of(message));
        Assert.Same(first, EncodedMessage.Of(message));
    }

    [Fact]
    public void WritePush_ToEverySubscriber_AllocatesNothingPerSubscriber()
    {
        var message = new QueueMessage(s_id, "c", 1, "message", JsonPayload.Parse("""{"x":"0123456789"}"""), 1_738_324_800_000, 3600);
        var heads = Enumerable.Range(0, 100).Select(i => ServerFrames.PushHead($"sub-{i}")).ToArray();
        var buffer = new ArrayBufferWriter<byte>(4096);
        ServerFrames.WritePush(buffer, heads[0], message, 3);

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var head in heads)
        {
            buffer.ResetWrittenCount();
            ServerFrames.WritePush(buffer, head, message, 3);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    /// <summary>The frame as it was written before the message's JSON was shared: every field through a JSON writer.</summary>
    private static string Expected(string subscriptionId, QueueMessage message, long dropped)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type", "queue_message");
            w.WritePropertyName("data");
            w.WriteStartObject();
            w.WriteString("subscription_id", subscriptionId);
            w.WritePropertyName("message");
            MessageJson.WriteMessage(w, message);
            if (dropped > 0)
            {
                w.WriteNumber("dropped", dropped);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
