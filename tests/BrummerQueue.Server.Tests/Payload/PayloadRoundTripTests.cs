using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;
using CsCheck;

namespace BrummerQueue.Server.Tests.Payload;

/// <summary>
/// The cross-face property of SPEC.md section 1: a generated payload, at and around every limit (depth
/// 63/64/65, size near <see cref="QueueOptions.MaxMessageBytes"/>, every Unicode plane, escapes of paired
/// and lone surrogates, bytes that are not UTF-8), is sent through each face (MCP over HTTP, WebSocket,
/// HTTP API). Either every face accepts it, and each of them reads every copy back byte for byte, or every
/// face refuses it with the same refusal naming <c>payload</c>. stdio and the CLI have fixed cases in
/// <see cref="PayloadFacesTests"/> and the CLI tests. Bounded: a fixed number of iterations, a few seconds.
/// </summary>
public sealed class PayloadRoundTripTests
{
    private const int MaxMessageBytes = 4096;
    private const int Iterations = 100;
    private static readonly JsonDocumentOptions s_deep = new() { MaxDepth = 1000 };

    private static readonly int[] s_depths = [0, 1, 2, 62, 63, 64, 65, 66];

    /// <summary>Pieces of string content, as raw JSON text (escapes as written) or raw bytes.</summary>
    private static readonly byte[][] s_fragments =
    [
        "plain ascii"u8.ToArray(),
        "Zoë"u8.ToArray(),
        "こんにちは"u8.ToArray(),
        "😀"u8.ToArray(),
        "𝄞"u8.ToArray(),
        [0xEF, 0xBF, 0xBF],
        [0xF4, 0x8F, 0xBF, 0xBF],
        "<b>&'"u8.ToArray(),
        @"\u00e9"u8.ToArray(),
        @"\ud83d\ude00"u8.ToArray(),
        @"\uDBFF\uDFFF"u8.ToArray(),
        "\\n\\t\\\""u8.ToArray(),
        @"\\ud83d"u8.ToArray(),
        @"\u0000"u8.ToArray(),
        @"\ud83d"u8.ToArray(),
        @"\ude00"u8.ToArray(),
        @"\ud83d\u0041"u8.ToArray(),
        [0xFF],
        [0xC0, 0x80],
        [0xED, 0xA0, 0x80],
        [0xF0, 0x9F, 0x98],
    ];

    private static readonly Gen<byte[]> s_payload = Gen.Select(
        Gen.Int[0, s_depths.Length - 1].Select(i => s_depths[i]),
        Gen.Int[0, s_fragments.Length - 1].Array[0, 4],
        Gen.Frequency((4, Gen.Const(0)), (1, Gen.Int[MaxMessageBytes - 280, MaxMessageBytes - 180])),
        Gen.Bool,
        Build);

    [Fact]
    public async Task SendThroughEachFace_ReadBackThroughEachFace_SameOutcomeAndSameBytes()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new()
        {
            ["Brummerq:Queue:MaxMessageBytes"] = MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Brummerq:MaxFramesPerSecond"] = "100000",
        });
        using var mcp = await RawMcpSession.StartAsync(host);
        using var http = host.CreateHttpClient();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _socket = socket;
        var iteration = 0;

        await s_payload.SampleAsync(
            async payload =>
            {
                var channel = "prop." + iteration++;
                var outcomes = new[]
                {
                    await SendOverMcpAsync(mcp, channel, payload),
                    await SendOverSocketAsync(socket, channel, payload),
                    await SendOverHttpAsync(http, channel, payload),
                };

                Assert.True(outcomes.All(o => o.Accepted == outcomes[0].Accepted), $"faces disagree: {string.Join(" | ", outcomes)}");
                if (!outcomes[0].Accepted)
                {
                    Assert.All(outcomes, o => Assert.Equal(outcomes[1].Message, o.Message));
                    Assert.Equal("payload", outcomes[1].Field);
                    Assert.Equal(outcomes[1].Field, outcomes[2].Field);
                    Assert.Equal(outcomes[1].Code, outcomes[2].Code);
                    Assert.Contains(outcomes[1].Code, (string[])[QueueErrorCodes.InvalidArgument, QueueErrorCodes.MessageTooLarge]);
                    Assert.Contains(outcomes[1].Code == QueueErrorCodes.InvalidArgument ? "payload" : "message must be at most", outcomes[1].Message, StringComparison.Ordinal);
                    Assert.Equal(0, host.Queue.ListChannels().Count(c => c.Name == channel && c.Messages > 0));
                    return;
                }

                await AssertReadBackAsync(mcp, socket, http, channel, payload);
                host.Queue.Receive(channel, 10, peek: false, new List<QueueMessage>());
            },
            iter: Iterations,
            threads: 1,
            print: p => $"{p.Length} bytes: {Convert.ToHexString(p.AsSpan(0, Math.Min(p.Length, 400)))}");
    }

    private static byte[] Build(int depth, int[] fragments, int filler, bool inKey)
    {
        var text = new List<byte>();
        foreach (var fragment in fragments)
        {
            text.AddRange(s_fragments[fragment]);
        }

        text.AddRange(Enumerable.Repeat((byte)'x', filler));
        byte[] leaf = inKey ? [.. "{\""u8, .. text, .. "\":1}"u8] : [.. "\""u8, .. text, .. "\""u8];
        var nested = Encoding.UTF8.GetBytes(PayloadFacesTests.Nested(depth));
        var hole = nested.AsSpan().IndexOf("\"ü\""u8);

        // Nested() puts "ü" at the innermost level; put the leaf there instead.
        return [.. nested[..hole], .. leaf, .. nested[(hole + 4)..]];
    }

    private static async Task AssertReadBackAsync(RawMcpSession mcp, TestSocket socket, HttpClient http, string channel, byte[] payload)
    {
        var viaMcp = await mcp.CallAsync("queue_receive", $$"""{"channel":"{{channel}}","peek":true}""");
        var text = PayloadFacesTests.TextResult(viaMcp).GetProperty("messages");
        var structured = PayloadFacesTests.Result(viaMcp).GetProperty("messages");
        await socket.SendAsync($$$"""{"type":"queue_receive","id":"r","data":{"channel":"{{{channel}}}","peek":true}}""");
        var viaSocket = (await socket.ReceiveAsync("messages")).GetProperty("data").GetProperty("messages");
        var viaHttp = JsonDocument.Parse(await http.GetByteArrayAsync($"/api/channels/{channel}/messages?peek=true", TestContext.Current.CancellationToken), s_deep).RootElement.GetProperty("messages");

        Assert.Equal(3, text.GetArrayLength());
        Assert.Equal(3, viaSocket.GetArrayLength());
        Assert.Equal(3, viaHttp.GetArrayLength());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(payload, PayloadFacesTests.RawPayload(text[i]));
            Assert.Equal(payload, PayloadFacesTests.RawPayload(viaSocket[i]));
            Assert.Equal(payload, PayloadFacesTests.RawPayload(viaHttp[i]));

            // structuredContent is written by the SDK's writer (non-ASCII as \u escapes): the same JSON, not the same bytes.
            Assert.True(JsonElement.DeepEquals(text[i].GetProperty("payload"), structured[i].GetProperty("payload")));
        }
    }

    private static async Task<Outcome> SendOverMcpAsync(RawMcpSession mcp, string channel, byte[] payload)
    {
        var reply = await mcp.CallAsync("queue_send", [.. Encoding.UTF8.GetBytes($$"""{"channel":"{{channel}}","payload":"""), .. payload, .. "}"u8]);
        Assert.False(reply.TryGetProperty("error", out _), $"MCP answered a JSON-RPC error: {reply}");
        var result = reply.GetProperty("result");
        return result.TryGetProperty("isError", out var isError) && isError.GetBoolean()
            ? new Outcome("mcp", false, null, null, result.GetProperty("content")[0].GetProperty("text").GetString())
            : new Outcome("mcp", true, null, null, null);
    }

    private static async Task<Outcome> SendOverSocketAsync(TestSocket socket, string channel, byte[] payload)
    {
        byte[] frame = [.. Encoding.UTF8.GetBytes($$"""{"type":"queue_message","id":"s","data":{"channel":"{{channel}}","payload":"""), .. payload, .. "}}"u8];
        await socket.Socket.SendAsync(frame, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        var reply = await socket.ReceiveAsync();
        if (reply.GetProperty("type").GetString() == "ack")
        {
            return new Outcome("ws", true, null, null, null);
        }

        var data = reply.GetProperty("data");
        return new Outcome("ws", false, data.GetProperty("code").GetString(), data.TryGetProperty("field", out var field) ? field.GetString() : null, data.GetProperty("message").GetString());
    }

    private static async Task<Outcome> SendOverHttpAsync(HttpClient http, string channel, byte[] payload)
    {
        using var content = new ByteArrayContent([.. "{\"payload\":"u8, .. payload, .. "}"u8]);
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync($"/api/channels/{channel}/messages", content, TestContext.Current.CancellationToken);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return new Outcome("http", true, null, null, null);
        }

        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var root = problem.RootElement;
        return new Outcome("http", false, root.GetProperty("code").GetString(), root.TryGetProperty("field", out var field) ? field.GetString() : null, root.GetProperty("detail").GetString());
    }

    private sealed record Outcome(string Face, bool Accepted, string? Code, string? Field, string? Message);
}
