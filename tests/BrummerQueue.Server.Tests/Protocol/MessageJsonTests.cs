using System.Buffers;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Tests.Protocol;

public sealed class MessageJsonTests
{
    [Fact]
    public void WriteMessage_WritesTheWholeObjectWithRfc3339MillisecondTimestamps()
    {
        var sent = new DateTimeOffset(2025, 1, 31, 12, 0, 0, 7, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var message = new QueueMessage(Guid.Parse("01890a5d-ac96-774b-bcce-b302099a8057"), "user-events", 42, "click", JsonPayload.Parse("""{"x":1,"t":"ü"}"""), sent, 3600);

        Assert.Equal(
            """{"id":"01890a5d-ac96-774b-bcce-b302099a8057","channel":"user-events","seq":42,"type":"click","payload":{"x":1,"t":"ü"},"timestamp":"2025-01-31T12:00:00.007Z","ttl":3600,"expires_at":"2025-01-31T13:00:00.007Z"}""",
            Write(message));
    }

    [Fact]
    public void WriteMessage_WithoutTtl_WritesNullExpiry()
    {
        var message = new QueueMessage(Guid.Empty, "c", 1, "message", JsonPayload.Null, 0, 0);

        Assert.Equal(
            """{"id":"00000000-0000-0000-0000-000000000000","channel":"c","seq":1,"type":"message","payload":null,"timestamp":"1970-01-01T00:00:00.000Z","ttl":0,"expires_at":null}""",
            Write(message));
    }

    private static string Write(QueueMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            MessageJson.WriteMessage(writer, message);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
