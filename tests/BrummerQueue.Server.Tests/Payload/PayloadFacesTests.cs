using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Cli;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Payload;

/// <summary>
/// The payload rule across faces: the three inputs of issue 9 that lost acknowledged messages, and a
/// payload at the depth limit sent and delivered by every face.
/// </summary>
public sealed class PayloadFacesTests
{
    private static readonly JsonDocumentOptions s_deep = new() { MaxDepth = 1000 };

    [Fact]
    public async Task WebSocketSeedFrames_LoneSurrogateInOne_RefusedAndNeighboursDeliveredOverMcpAndSubscription()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var mcp = await RawMcpSession.StartAsync(host);
        var subscriptionId = Result(await mcp.CallAsync("queue_subscribe", """{"channel":"page.events"}""")).GetProperty("subscription_id").GetString();
        var (watcher, _) = await TestSocket.ConnectAsync(host);
        await using var _watcher = watcher;
        await watcher.RequestAsync("queue_subscribe", "w", new { channel = "page.events" });
        var (page, _) = await TestSocket.ConnectAsync(host);
        await using var _page = page;

        // What "Great news 😀".slice(0, 12) gives a page, between two ordinary messages, with the seed's frame (no id).
        await page.SendAsync("""{"type":"queue_message","data":{"channel":"page.events","type":"news","payload":{"title":"first"},"ttl":60}}""");
        await page.SendAsync("""{"type":"queue_message","data":{"channel":"page.events","type":"news","payload":{"title":"Great news \ud83d"},"ttl":60}}""");
        await page.SendAsync("""{"type":"queue_message","data":{"channel":"page.events","type":"news","payload":{"title":"third"},"ttl":60}}""");
        await page.ReceiveAsync("ack");
        var refused = (await page.ReceiveAsync("error")).GetProperty("data");
        await page.ReceiveAsync("ack");

        var pushes = new[] { await watcher.ReceiveAsync("queue_message"), await watcher.ReceiveAsync("queue_message") };
        var received = Result(await mcp.CallAsync("queue_receive", """{"channel":"page.events"}"""));
        var fromSubscription = Result(await mcp.CallAsync("queue_receive", $$"""{"subscription_id":"{{subscriptionId}}"}"""));

        Assert.Equal("invalid_argument", refused.GetProperty("code").GetString());
        Assert.Equal("payload", refused.GetProperty("field").GetString());
        Assert.Contains(@"payload contains an unpaired surrogate escape \ud83d at byte 21", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(["first", "third"], pushes.Select(p => p.GetProperty("data").GetProperty("message").GetProperty("payload").GetProperty("title").GetString()));
        Assert.Equal(["first", "third"], Titles(received));
        Assert.Equal(["first", "third"], Titles(fromSubscription));
        Assert.Equal(2, host.Queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public async Task HttpApiPost_NonUtf8ByteInPayload_Refused400NamingPayload()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var http = host.CreateHttpClient();
        byte[] body = [.. """{"payload":{"t":"caf"""u8, 0xE9, .. "\"}}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");

        using var response = await http.PostAsync("/api/channels/bytes/messages", content, TestContext.Current.CancellationToken);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("payload", problem.RootElement.GetProperty("field").GetString());
        Assert.Equal("invalid_argument", problem.RootElement.GetProperty("code").GetString());
        Assert.Contains("payload must be valid UTF-8: byte 9 (0xE9)", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task McpSend_NonAsciiAndEscapes_StoredByteForByte()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var mcp = await RawMcpSession.StartAsync(host);
        const string Payload = """{"greeting":"こんにちは","mixed":"Zoë \u00e9 😀 \ud83d\ude00 <b>&"}""";

        var reply = await mcp.CallAsync("queue_send", $$"""{"channel":"jp","payload":{{Payload}}}""");
        var stored = Peek(host, "jp");
        var text = TextResult(await mcp.CallAsync("queue_receive", """{"channel":"jp"}"""));

        Assert.False(reply.GetProperty("result").TryGetProperty("isError", out _), reply.ToString());
        Assert.Equal(Payload, stored);
        Assert.Equal(Payload, Encoding.UTF8.GetString(RawPayload(text.GetProperty("messages")[0])));
    }

    [Fact]
    public async Task McpSend_PayloadRuleBroken_IsErrorNamingPayloadNeverInternalError()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var mcp = await RawMcpSession.StartAsync(host);

        var tooDeep = await mcp.CallAsync("queue_send", $$"""{"channel":"c","payload":{{Nested(65)}}}""");
        var lone = await mcp.CallAsync("queue_send", """{"channel":"c","payload":"\udc00"}""");
        var notUtf8 = await mcp.CallAsync("queue_send", [.. "{\"channel\":\"c\",\"payload\":\""u8, 0xC3, .. "\"}"u8]);

        Assert.Contains("payload is nested more than 64 levels deep", ErrorText(tooDeep), StringComparison.Ordinal);
        Assert.Contains(@"payload contains an unpaired surrogate escape \udc00", ErrorText(lone), StringComparison.Ordinal);
        Assert.Contains("payload must be valid UTF-8", ErrorText(notUtf8), StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task McpHttpPost_NotUtf8OutsideThePayload_IsParseErrorNamingTheByteNothingStored()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var mcp = await RawMcpSession.StartAsync(host);

        var (status, text) = await mcp.PostAsync([.. """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"queue_send","arguments":{"channel":"c","type":"a"""u8, 0xC3, .. "\",\"payload\":1}}}"u8]);

        Assert.Equal(400, status);
        using var reply = JsonDocument.Parse(text);
        Assert.Equal(7, reply.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(-32700, reply.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("Parse error: the body", reply.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("byte 112", reply.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task McpCall_LoneSurrogateInAnArgumentOtherThanPayload_IsToolErrorNamingItNeverInternalError()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var mcp = await RawMcpSession.StartAsync(host);

        var inType = await mcp.CallAsync("queue_send", """{"channel":"m","type":"x\ud83d","payload":1}""");
        var inChannel = await mcp.CallAsync("queue_subscribe", """{"channel":"m\udc00"}""");
        var repeated = await mcp.CallAsync("queue_send", """{"channel":"m","type":"a","type":"x\ud83d","payload":1}""");
        var nestedRepeated = await mcp.CallAsync("queue_stats", """{"x":{"k":1,"k":"\ud83d"}}""");

        Assert.Equal(@"type must be valid Unicode text (no lone surrogate escape such as \ud83d)", ErrorText(inType));
        Assert.Equal(@"channel must be valid Unicode text (no lone surrogate escape such as \ud83d)", ErrorText(inChannel));
        Assert.Equal(@"arguments must be valid Unicode text (no lone surrogate escape such as \ud83d)", ErrorText(repeated));
        Assert.Equal(@"x must be valid Unicode text (no lone surrogate escape such as \ud83d)", ErrorText(nestedRepeated));
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
        Assert.Equal(0, host.Queue.GetStats().TotalSubscriptions);
    }

    [Fact]
    public async Task PayloadAtDepthLimit_SentByEveryFace_DeliveredByEveryFace()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var mcp = await RawMcpSession.StartAsync(host);
        using var http = host.CreateHttpClient();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _socket = socket;
        var payload = Nested(64);

        var overMcp = await mcp.CallAsync("queue_send", $$"""{"channel":"deep","payload":{{payload}}}""");
        await socket.SendAsync($$$"""{"type":"queue_message","id":"1","data":{"channel":"deep","payload":{{{payload}}}}}""");
        var overSocket = await socket.ReceiveAsync();
        using var body = new StringContent($$"""{"payload":{{payload}}}""", Encoding.UTF8, "application/json");
        using var overHttp = await http.PostAsync("/api/channels/deep/messages", body, TestContext.Current.CancellationToken);

        var viaMcp = await mcp.CallAsync("queue_receive", """{"channel":"deep","peek":true}""");
        var viaSocket = await socket.RequestAsync("queue_receive", "2", new { channel = "deep", peek = true });
        var viaHttp = JsonDocument.Parse(await http.GetByteArrayAsync("/api/channels/deep/messages?peek=true", TestContext.Current.CancellationToken), s_deep).RootElement;

        Assert.False(overMcp.GetProperty("result").TryGetProperty("isError", out _), overMcp.ToString());
        Assert.Equal("ack", overSocket.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Created, overHttp.StatusCode);
        var structured = Result(viaMcp).GetProperty("messages");
        var text = TextResult(viaMcp).GetProperty("messages");
        var fromSocket = viaSocket.GetProperty("data").GetProperty("messages");
        var fromHttp = viaHttp.GetProperty("messages");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(payload, Encoding.UTF8.GetString(RawPayload(text[i])));
            Assert.Equal(payload, Encoding.UTF8.GetString(RawPayload(fromSocket[i])));
            Assert.Equal(payload, Encoding.UTF8.GetString(RawPayload(fromHttp[i])));
            Assert.True(JsonElement.DeepEquals(text[i].GetProperty("payload"), structured[i].GetProperty("payload")));
        }
    }

    [Fact]
    public async Task McpReceive_PayloadAtDepthLimit_AnsweredNotBareInternalError()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        host.Queue.Send("deep", new MessageDraft(Payload: JsonPayload.FromUtf8(Encoding.UTF8.GetBytes(Nested(64)))));
        using var mcp = await RawMcpSession.StartAsync(host);

        var reply = await mcp.CallAsync("queue_receive", """{"channel":"deep"}""");

        Assert.False(reply.TryGetProperty("error", out _), reply.ToString());
        Assert.Equal(1, Result(reply).GetProperty("count").GetInt32());
        Assert.Equal(1, host.Queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public async Task McpStdio_PayloadBytesAndDepthLimit_KeptAndRefusedAsOnEveryFace()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        const string Japanese = """{"greeting":"こんにちは","e":"\u00e9 😀"}""";
        var deep = Nested(64);
        var replies = new Dictionary<int, JsonElement>();

        async Task<JsonElement> SendAsync(int id, byte[] line)
        {
            await process.StandardInput.BaseStream.WriteAsync(line.Concat("\n"u8.ToArray()).ToArray(), TestContext.Current.CancellationToken);
            await process.StandardInput.BaseStream.FlushAsync(TestContext.Current.CancellationToken);
            while (!replies.ContainsKey(id))
            {
                var text = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)
                    ?? throw new InvalidOperationException("stdout ended early; stderr: " + await stderr);
                var message = JsonDocument.Parse(text, s_deep).RootElement.Clone();
                if (message.TryGetProperty("id", out var answer) && answer.ValueKind == JsonValueKind.Number)
                {
                    replies[answer.GetInt32()] = message;
                }
            }

            return replies[id];
        }

        byte[] Call(int id, string tool, byte[] arguments) =>
            [.. Encoding.UTF8.GetBytes($$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"{{{tool}}}","arguments":"""), .. arguments, .. "}}"u8];

        await SendAsync(1, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"""u8.ToArray());
        await process.StandardInput.BaseStream.WriteAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}"""u8.ToArray().Concat("\n"u8.ToArray()).ToArray(), TestContext.Current.CancellationToken);
        var sent = await SendAsync(2, Call(2, "queue_send", Encoding.UTF8.GetBytes($$"""{"channel":"jp","payload":{{Japanese}}}""")));
        var notUtf8 = await SendAsync(3, Call(3, "queue_send", [.. "{\"channel\":\"jp\",\"payload\":\"caf"u8, 0xE9, .. "\"}"u8]));
        var lone = await SendAsync(4, Call(4, "queue_send", """{"channel":"jp","payload":["\ud83d"]}"""u8.ToArray()));
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") })
        using (var body = new StringContent($$"""{"payload":{{deep}}}""", Encoding.UTF8, "application/json"))
        {
            using var stored = await http.PostAsync("/api/channels/deep/messages", body, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        }

        var deepReply = await SendAsync(5, Call(5, "queue_receive", """{"channel":"deep"}"""u8.ToArray()));
        var jpReply = await SendAsync(6, Call(6, "queue_receive", """{"channel":"jp"}"""u8.ToArray()));
        var deepSent = await SendAsync(7, Call(7, "queue_send", Encoding.UTF8.GetBytes($$"""{"channel":"deep","payload":{{deep}}}""")));
        var tooDeep = await SendAsync(8, Call(8, "queue_send", Encoding.UTF8.GetBytes($$"""{"channel":"deep","payload":{{Nested(65)}}}""")));
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Result(sent);
        Assert.Contains("payload must be valid UTF-8: byte 4 (0xE9)", ErrorText(notUtf8), StringComparison.Ordinal);
        Assert.Contains(@"payload contains an unpaired surrogate escape \ud83d at byte 2", ErrorText(lone), StringComparison.Ordinal);
        Assert.Equal(deep, Encoding.UTF8.GetString(RawPayload(TextResult(deepReply).GetProperty("messages")[0])));
        Assert.True(JsonElement.DeepEquals(TextResult(deepReply).GetProperty("messages")[0], Result(deepReply).GetProperty("messages")[0]));
        Assert.Equal(Japanese, Encoding.UTF8.GetString(RawPayload(TextResult(jpReply).GetProperty("messages")[0])));
        Assert.Equal(1, Result(jpReply).GetProperty("count").GetInt32());
        Assert.Equal(deep, Encoding.UTF8.GetString(RawPayload(TextResult(deepSent).GetProperty("message"))));
        Assert.Contains("payload is nested more than 64 levels deep", ErrorText(tooDeep), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_SendAndTail_PayloadAtDepthLimitAndNonAscii_ByteForByte_DeeperRefusedNamingPayload()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var url = host.BaseAddress.ToString();
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "cli.deep", "--url", url);
        Assert.Contains("following 'cli.deep'", await error.NextLineAsync(), StringComparison.Ordinal);
        var deep = Nested(64).Replace("ü", "こんにちは 😀", StringComparison.Ordinal);

        var (sentCode, sentOutput, sentError) = await CliRunner.RunAsync("send", "cli.deep", deep, "--url", url);
        var (deeperCode, _, deeperError) = await CliRunner.RunAsync("send", "cli.deep", Nested(65), "--url", url);
        var printedBySend = JsonDocument.Parse(await sentOutput.NextLineAsync(), s_deep).RootElement;
        var printedByTail = JsonDocument.Parse(await output.NextLineAsync(), s_deep).RootElement;
        await stop.CancelAsync();
        await tail.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(sentCode == 0, sentError.Text);
        Assert.Equal(deep, Peek(host, "cli.deep"));
        Assert.Equal(deep, Encoding.UTF8.GetString(RawPayload(printedBySend)));
        Assert.Equal(deep, Encoding.UTF8.GetString(RawPayload(printedByTail)));
        Assert.Equal(1, deeperCode);
        Assert.Contains("payload is nested more than 64 levels deep", deeperError.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpStdioAttached_PayloadRuleBrokenOrNonAscii_ClearErrorOrSameJsonOnTheHostingServer()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        using var stdio = await RawStdioSession.StartAsync(host.BaseAddress.Port);
        const string Japanese = """{"greeting":"こんにちは 😀"}""";

        var sent = await stdio.CallAsync("queue_send", Encoding.UTF8.GetBytes($$"""{"channel":"attached","payload":{{Japanese}}}"""));
        var lone = await stdio.CallAsync("queue_send", """{"channel":"attached","payload":"Great news \ud83d"}"""u8.ToArray());
        var notUtf8 = await stdio.CallAsync("queue_send", [.. "{\"channel\":\"attached\",\"payload\":\""u8, 0xFF, .. "\"}"u8]);

        Result(sent);
        Assert.Contains(@"payload contains an unpaired surrogate escape \ud83d at byte 12", ErrorText(lone), StringComparison.Ordinal);
        Assert.Contains("payload must be valid UTF-8: byte 1 (0xFF)", ErrorText(notUtf8), StringComparison.Ordinal);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(Japanese).RootElement, JsonDocument.Parse(Peek(host, "attached")).RootElement));
        Assert.Equal(1, host.Queue.GetStats().MessagesSent);
    }

    internal static string Nested(int depth)
    {
        var builder = new StringBuilder();
        for (var level = 0; level < depth; level++)
        {
            builder.Append(level % 2 == 0 ? "[" : """{"k":""");
        }

        builder.Append("\"ü\"");
        for (var level = depth - 1; level >= 0; level--)
        {
            builder.Append(level % 2 == 0 ? "]" : "}");
        }

        return builder.ToString();
    }

    internal static JsonElement Result(JsonElement reply)
    {
        Assert.False(reply.TryGetProperty("error", out _), reply.ToString());
        var result = reply.GetProperty("result");
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), result.ToString());
        return result.GetProperty("structuredContent");
    }

    internal static JsonElement TextResult(JsonElement reply) =>
        JsonDocument.Parse(reply.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!, s_deep).RootElement.Clone();

    internal static string ErrorText(JsonElement reply)
    {
        Assert.False(reply.TryGetProperty("error", out _), reply.ToString());
        var result = reply.GetProperty("result");
        Assert.True(result.GetProperty("isError").GetBoolean(), result.ToString());
        return result.GetProperty("content")[0].GetProperty("text").GetString()!;
    }

    internal static byte[] RawPayload(JsonElement message) => JsonMarshal.GetRawUtf8Value(message.GetProperty("payload")).ToArray();

    private static string Peek(TestServerHost host, string channel)
    {
        var messages = new List<QueueMessage>();
        host.Queue.Receive(channel, 10, peek: true, messages);
        return Assert.Single(messages).Payload.ToString();
    }

    private static IEnumerable<string?> Titles(JsonElement result) =>
        result.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetProperty("title").GetString());
}
