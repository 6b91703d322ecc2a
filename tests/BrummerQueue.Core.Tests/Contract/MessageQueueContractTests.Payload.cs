using System.Text;

namespace BrummerQueue.Core.Tests.Contract;

/// <summary>The payload rule of SPEC.md section 1, checked by the engine at send time for every face.</summary>
public abstract partial class MessageQueueContractTests
{
    [Theory]
    [InlineData(63)]
    [InlineData(64)]
    public void Send_PayloadWithinMaxDepth_IsStoredByteForByte(int depth)
    {
        var queue = NewQueue();
        var json = Nested(depth);
        queue.Send("c", new MessageDraft(Payload: JsonPayload.FromUtf8(Encoding.UTF8.GetBytes(json))));
        Assert.Equal(json, Take(queue, "c")[0].Payload.ToString());
    }

    [Theory]
    [InlineData(65)]
    [InlineData(1000)]
    public void Send_PayloadDeeperThanMaxDepth_IsRefusedNamingTheLimit(int depth)
    {
        var queue = NewQueue();
        var error = AssertRefused(QueueErrorCodes.InvalidArgument, "payload", "payload is nested more than 64 levels deep", () => SendRaw(queue, Nested(depth)));
        Assert.Contains("the limit is 64 (max_payload_depth)", error.Message, StringComparison.Ordinal);
        Assert.Contains("level 65 opens at byte", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, queue.GetStats().MessagesSent);
    }

    [Fact]
    public void Send_ConfiguredMaxPayloadDepth_IsTheLimit()
    {
        var queue = NewQueue(new QueueOptions { MaxPayloadDepth = 3 });
        SendRaw(queue, """{"a":[{"b":1}]}""");
        SendRaw(queue, "7");
        var error = AssertRefused(QueueErrorCodes.InvalidArgument, "payload", "the limit is 3 (max_payload_depth)", () => SendRaw(queue, """{"a":[{"b":[]}]}"""));
        Assert.Contains("level 4 opens at byte 11", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, queue.GetStats().MessagesSent);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'"', 0xFF, (byte)'"' }, 1)]
    [InlineData(new byte[] { (byte)'"', (byte)'a', 0xC0, 0x80, (byte)'"' }, 2)]
    [InlineData(new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' }, 1)]
    [InlineData(new byte[] { (byte)'"', 0xF0, 0x9F, 0x98, (byte)'"' }, 1)]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0x80, (byte)'"', (byte)':', (byte)'1', (byte)'}' }, 2)]
    public void Send_PayloadNotUtf8_IsRefusedNamingTheByte(byte[] utf8, int at)
    {
        var queue = NewQueue();
        var error = AssertRefused(QueueErrorCodes.InvalidArgument, "payload", "payload must be valid UTF-8", () => queue.Send("c", new MessageDraft(Payload: JsonPayload.FromUtf8(utf8))));
        Assert.Contains($"byte {at} ", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, queue.GetStats().MessagesSent);
    }

    [Theory]
    [InlineData("""{"title":"Great news \ud83d"}""", @"\ud83d", 21)]
    [InlineData("""["\uDE00"]""", @"\uDE00", 2)]
    [InlineData("""["\ud83dx"]""", @"\ud83d", 2)]
    [InlineData("""["\ud83d\u0041"]""", @"\ud83d", 2)]
    [InlineData("""["\ud83d\ud83d\ude00"]""", @"\ud83d", 2)]
    [InlineData("""["\ude00\ud83d"]""", @"\ude00", 2)]
    [InlineData("""{"k\ud800":1}""", @"\ud800", 3)]
    [InlineData("""["\n\\\ud83d"]""", @"\ud83d", 6)]
    public void Send_UnpairedSurrogateEscape_IsRefusedNamingTheEscape(string json, string escape, int at)
    {
        var queue = NewQueue();
        var error = AssertRefused(QueueErrorCodes.InvalidArgument, "payload", $"payload contains an unpaired surrogate escape {escape} at byte {at}", () => SendRaw(queue, json));
        Assert.Contains(@"\ud83d\ude00", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""["\ud83d\ude00"]""")]
    [InlineData("""["\uD83D\uDE00 and \uDBFF\uDFFF"]""")]
    [InlineData("""{"\ud83d\ude00":"\\ud83d"}""")]
    [InlineData("""["\\\\ud83d", "\u00e9", "\u0000"]""")]
    [InlineData("""["😀 𝄞 こんにちは Zoë"]""")]
    [InlineData("""{"title":"Great news 😀"}""")]
    public void Send_PairedEscapesAndAstralText_AreStoredByteForByte(string json)
    {
        var queue = NewQueue();
        SendRaw(queue, json);
        Assert.Equal(Encoding.UTF8.GetBytes(json), Take(queue, "c")[0].Payload.Utf8.ToArray());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("1 2")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("""["\x"]""")]
    public void Send_PayloadNotOneJsonValue_IsRefused(string json)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "payload", "payload must be a single valid JSON value", () => SendRaw(queue, json));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(QueueOptions.MaxPayloadDepthLimit + 1)]
    public void Validate_MaxPayloadDepthOutOfRange_NamesTheSetting(int depth)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new QueueOptions { MaxPayloadDepth = depth }.Validate());
        Assert.Equal(nameof(QueueOptions.MaxPayloadDepth), error.ParamName);
    }

    /// <summary><paramref name="depth"/> levels of alternating arrays and objects around a number.</summary>
    protected static string Nested(int depth)
    {
        var open = new StringBuilder();
        var close = new StringBuilder();
        for (var level = 0; level < depth; level++)
        {
            open.Append(level % 2 == 0 ? "[" : """{"k":""");
            close.Insert(0, level % 2 == 0 ? "]" : "}");
        }

        return open + "1" + close;
    }

    private static void SendRaw(IMessageQueue queue, string json) =>
        queue.Send("c", new MessageDraft(Payload: JsonPayload.FromUtf8(Encoding.UTF8.GetBytes(json))));
}
