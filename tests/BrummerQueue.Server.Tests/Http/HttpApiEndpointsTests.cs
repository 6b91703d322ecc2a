using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Http;

public sealed class HttpApiEndpointsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Post_ValidBody_Answers201WithStoredMessageAndDeliveredTo()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var subscription = new SubscriptionScope(host.Queue, "orders");
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/orders/messages", UriKind.Relative), Json("""{"type":"created","payload":{"id":7},"ttl":120}"""), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await ReadJsonAsync(response);
        var message = body.GetProperty("message");
        Assert.Equal("orders", message.GetProperty("channel").GetString());
        Assert.Equal(1, message.GetProperty("seq").GetInt64());
        Assert.Equal("created", message.GetProperty("type").GetString());
        Assert.Equal("""{"id":7}""", message.GetProperty("payload").GetRawText());
        Assert.Equal(120, message.GetProperty("ttl").GetInt32());
        Assert.Equal(1, body.GetProperty("delivered_to").GetInt32());
        Assert.True(host.Queue.TryGetSubscription(subscription.Id, out var sub) && sub.TryRead(out var copy) && copy.Id.ToString() == message.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Post_NonAsciiText_AnsweredAsWrittenNotEscaped()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/uni/messages", UriKind.Relative), Json("""{"type":"grüße","payload":{"name":"Zoë <b>&","jp":"日本"}}"""), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("\"type\":\"grüße\"", text, StringComparison.Ordinal);
        Assert.Contains("{\"name\":\"Zoë <b>&\",\"jp\":\"日本\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_EmptyBody_StoresDefaults()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/pings/messages", UriKind.Relative), new ByteArrayContent([]), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var message = (await ReadJsonAsync(response)).GetProperty("message");
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("payload").ValueKind);
        Assert.Equal(3600, message.GetProperty("ttl").GetInt32());
    }

    [Fact]
    public async Task Post_ChannelWithSlashes_UsesTheWholeName()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/app/user:1/events/messages", UriKind.Relative), Json("{}"), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("app/user:1/events", (await ReadJsonAsync(response)).GetProperty("message").GetProperty("channel").GetString());
    }

    [Theory]
    [InlineData("/api/channels/c/messages", "not json", "body")]
    [InlineData("/api/channels/c/messages", "[1]", "body")]
    [InlineData("/api/channels/c/messages", """{"ttl":-5}""", "ttl")]
    [InlineData("/api/channels/c/messages", """{"ttl":"soon"}""", "ttl")]
    [InlineData("/api/channels/c/messages", """{"type":""}""", "type")]
    [InlineData("/api/channels/bad%20name/messages", "{}", "channel")]
    public async Task Post_Invalid_Answers400ProblemNamingTheField(string path, string body, string field)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"bogus":1}""", "bogus")]
    [InlineData("""{"paylod":{"id":7}}""", "paylod")]
    [InlineData("""{"type":"t","payload":1,"ttl":5,"channel":"x"}""", "channel")]
    [InlineData("""{"payload":1,"extra":null}""", "extra")]
    public async Task Post_UnknownField_Answers400NamingItAndTheAcceptedFields(string body, string field)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/ci/messages", UriKind.Relative), Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal($"unknown field '{field}'; expected: type, payload, ttl, reply_to, correlation_id", problem.GetProperty("detail").GetString());
        Assert.Empty(host.Queue.ListChannels());
    }

    [Theory]
    [InlineData("{\"type\":\"x\u00e9\",\"payload\":1}", "type", "type must be valid UTF-8 text: byte 1 (0xE9) of the string does not start a valid UTF-8 sequence")]
    [InlineData("""{"type":"x\ud83d","payload":1}""", "type", """type must be valid Unicode text (no lone surrogate escape such as \ud83d)""")]
    [InlineData("{\"x\u00e9\":1}", "x\ufffd", "field name 'x\ufffd' is not valid UTF-8 text: byte 1 (0xE9) of the name does not start a valid UTF-8 sequence")]
    [InlineData("""{"x\ud83d":1}""", """x\ud83d""", """field name 'x\ud83d' is not valid Unicode text (no lone surrogate escape such as \ud83d)""")]
    public async Task Post_FieldNotText_DetailNamesTheRuleBroken(string latin1Body, string field, string detail)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        // Latin-1 writes U+00E9 as the single byte 0xE9, which is not UTF-8.
        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes(latin1Body));
        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
        Assert.Empty(host.Queue.ListChannels());
    }

    [Theory]
    [InlineData("""{"payload":{"a":}}""", "payload", "body is not valid JSON at byte 16 (in payload.a): ")]
    [InlineData("""{"type":"t","payload":1,}""", "body", "body is not valid JSON at byte 24: ")]
    [InlineData("""{"type":"t" "payload":1}""", "body", "body is not valid JSON at byte 12: ")]
    [InlineData("[1]", "body", "body must be a JSON object { type?, payload?, ttl? }")]
    public async Task Post_BodyNotAJsonObject_DetailSaysWhatAndWhere(string body, string field, string detailStart)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.StartsWith(detailStart, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(host.Queue.ListChannels());
    }

    [Fact]
    public async Task Post_PayloadDeeperThanTheEnvelopeAllows_DetailSaysDepthAndPathNamingPayload()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        // 80 levels: past the body parser's 64 + 8, so the parser stops before the payload rule sees it.
        var body = """{"payload":""" + new string('[', 80) + new string(']', 80) + "}";
        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), Json(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.Equal("payload", problem.GetProperty("field").GetString());
        var detail = problem.GetProperty("detail").GetString();
        Assert.StartsWith("body nests deeper than 72 levels at byte 82 (in payload[0]", detail, StringComparison.Ordinal);
        Assert.Empty(host.Queue.ListChannels());
    }

    [Fact]
    public async Task Post_FieldNameNotUtf8_Answers400NamingIt()
    {
        // Found by the fuzzer: reading the name to quote it threw again, and the request failed with 500.
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();
        byte[] body = [.. "{\"payload\":1,\"ttl"u8, 0x8F, .. "\":3600}"u8];

        using var response = await client.PostAsync(new Uri("/api/channels/ci/messages", UriKind.Relative), new ByteArrayContent(body), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("invalid_argument", problem.GetProperty("code").GetString());
        Assert.Equal("ttl\uFFFD", problem.GetProperty("field").GetString());
        Assert.Equal("field name 'ttl\uFFFD' is not valid UTF-8 text: byte 3 (0x8F) of the name does not start a valid UTF-8 sequence", problem.GetProperty("detail").GetString());
        Assert.Empty(host.Queue.ListChannels());
    }

    [Fact]
    public async Task Post_TtlTooLarge_DetailIsTheEngineRule()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), Json("""{"ttl":604801}"""), Ct);

        Assert.Equal("ttl must be an integer between 0 and 604800", (await ReadProblemAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Post_MessageTooLarge_Answers413()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxMessageBytes"] = "1024" });
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), Json(JsonSerializer.Serialize(new { payload = new string('x', 4096) })), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("message_too_large", (await ReadProblemAsync(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_BodyFarOverLimit_Answers413WithoutReadingIt()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxMessageBytes"] = "1024" });
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), Json(JsonSerializer.Serialize(new { payload = new string('x', 200_000) })), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body", (await ReadProblemAsync(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Post_QueueFull_Answers429()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxTotalBytes"] = "16" });
        using var client = host.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), Json("""{"payload":"well over sixteen bytes"}"""), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("queue_full", (await ReadProblemAsync(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Get_Messages_ConsumesOldestFirstAndPeekKeeps()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        for (var i = 1; i <= 3; i++)
        {
            host.Queue.Send("jobs", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        using var client = host.CreateHttpClient();

        var peeked = await GetJsonAsync(client, "/api/channels/jobs/messages?peek=true&limit=1");
        var taken = await GetJsonAsync(client, "/api/channels/jobs/messages?limit=2");
        var rest = await GetJsonAsync(client, "/api/channels/jobs/messages");

        Assert.Equal(1, peeked.GetProperty("count").GetInt32());
        Assert.Equal([1, 2], taken.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
        Assert.Equal(3, Assert.Single(rest.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetInt32());
        Assert.Equal(0, (await GetJsonAsync(client, "/api/channels/jobs/messages")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Get_MessagesWithTimeout_LongPollsUntilASendArrives()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        var poll = GetJsonAsync(client, "/api/channels/later/messages?timeout=30");
        Assert.False(poll.IsCompleted);
        using var sent = await client.PostAsync(new Uri("/api/channels/later/messages", UriKind.Relative), Json("""{"payload":"now"}"""), Ct);
        var result = await poll.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal("now", Assert.Single(result.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetString());
    }

    [Fact]
    public async Task Get_LongPollClientGoesAway_LogsOneDebugLineAndNoFault()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: logs.InstallWithDebug);
        using var client = host.CreateHttpClient();
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var poll = client.GetAsync(new Uri("/api/channels/left/messages?timeout=120", UriKind.Relative), leave.Token);
        await Mcp.McpToolsTests.WaitUntilAsync(() => Mcp.McpToolsTests.ReceiverWaiting(host.Queue));
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await poll);
        await Mcp.McpToolsTests.WaitUntilAsync(() => !Mcp.McpToolsTests.ReceiverWaiting(host.Queue) && logs.WithEventId(BrummerQueue.Server.Http.HttpApiLog.ClientLeftEventId).Length > 0);
        host.Queue.Send("left", default);

        Assert.True(logs.Faults().Length == 0, logs.Dump());
        Assert.True(logs.RequestLogs().Length == 0, logs.Dump());
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, Assert.Single(logs.WithEventId(BrummerQueue.Server.Http.HttpApiLog.ClientLeftEventId)).Level);
        Assert.Equal(1, host.Queue.GetStats().TotalMessages);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("peek=maybe", "peek")]
    [InlineData("timeout=-1", "timeout")]
    [InlineData("timeout=301", "timeout")]
    public async Task Get_InvalidQuery_Answers400NamingTheField(string query, string field)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri("/api/channels/c/messages?" + query, UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await ReadProblemAsync(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Get_Channels_ListsSortedWithCounts()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        host.Queue.Send("b", new MessageDraft());
        host.Queue.Send("a", new MessageDraft());
        host.Queue.Send("a", new MessageDraft());
        using var client = host.CreateHttpClient();

        var body = await GetJsonAsync(client, "/api/channels");

        var channels = body.GetProperty("channels").EnumerateArray().ToList();
        Assert.Equal(["a", "b"], channels.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(2, channels[0].GetProperty("messages").GetInt32());
        Assert.Equal(2, channels[0].GetProperty("last_seq").GetInt64());
        Assert.Equal(0, channels[0].GetProperty("subscriptions").GetInt32());
    }

    [Fact]
    public async Task Get_Stats_HasTotalsAndPerChannelFigures()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        host.Queue.Send("s", new MessageDraft());
        host.Queue.Send("s", new MessageDraft());
        host.Queue.Receive("s", 1, peek: false, new List<QueueMessage>());
        using var client = host.CreateHttpClient();

        var stats = await GetJsonAsync(client, "/api/stats");

        Assert.Equal(1, stats.GetProperty("total_messages").GetInt64());
        Assert.Equal(2, stats.GetProperty("messages_sent").GetInt64());
        Assert.Equal(1, stats.GetProperty("messages_consumed").GetInt64());
        foreach (var name in new[] { "total_channels", "total_subscriptions", "total_bytes", "messages_expired", "messages_dropped", "uptime_seconds" })
        {
            Assert.Equal(JsonValueKind.Number, stats.GetProperty(name).ValueKind);
        }

        var channel = stats.GetProperty("channels").GetProperty("s");
        Assert.Equal(2, channel.GetProperty("sent").GetInt64());
        Assert.Equal(1, channel.GetProperty("consumed").GetInt64());
        Assert.Equal(1, channel.GetProperty("messages").GetInt64());
    }

    [Fact]
    public async Task Get_Stats_WebSocketSubscription_ListedAsReadingByItsSocketWithNoIdleExpiry()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using (socket)
        {
            var subscribed = await socket.RequestAsync("queue_subscribe", "1", new { channel = "feed" });

            // Frames are handled in order: once the ping is answered, the subscribe handler has started its push loop.
            await socket.RequestAsync("ping", "2");
            using var client = host.CreateHttpClient();

            var stats = await GetJsonAsync(client, "/api/stats");

            var listed = Assert.Single(stats.GetProperty("subscriptions").EnumerateArray());
            Assert.Equal(subscribed.GetProperty("data").GetProperty("subscription_id").GetString(), listed.GetProperty("id").GetString());
            Assert.Equal("websocket", listed.GetProperty("owner").GetString());
            Assert.True(listed.GetProperty("reading").GetBoolean());
            Assert.Equal(JsonValueKind.Null, listed.GetProperty("idle_expires_at").ValueKind);
        }
    }

    [Theory]
    [InlineData("/api/nothing")]
    [InlineData("/api/channels/c")]
    public async Task Get_UnknownApiPath_Answers404Problem(string path)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(404, (await ReadProblemAsync(response)).GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("DELETE", "/api/channels/ci/messages", "GET, POST")]
    [InlineData("PUT", "/api/channels/app/user:1/events/messages", "GET, POST")]
    [InlineData("POST", "/api/channels", "GET")]
    [InlineData("DELETE", "/api/stats", "GET")]
    public async Task WrongMethod_ExistingPath_Answers405ProblemWithAllow(string method, string path, string allow)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        var problem = await ReadProblemAsync(response);
        Assert.Equal(405, problem.GetProperty("status").GetInt32());
        Assert.Equal("method_not_allowed", problem.GetProperty("code").GetString());
        Assert.Equal($"{method} is not allowed on {path}; allowed: {allow}", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Options_ExistingPath_Answers204WithAllow()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Options, new Uri("/api/channels/ci/messages", UriKind.Relative));
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["GET", "POST"], response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("DELETE", "/api/nothing")]
    [InlineData("DELETE", "/api/channels/c")]
    [InlineData("DELETE", "/api/channels/c/messages/extra")]
    public async Task WrongMethod_UnknownPath_Answers404(string method, string path)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var client = host.CreateHttpClient();

        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(response.Content.Headers.Allow);
        Assert.Equal("not_found", (await ReadProblemAsync(response)).GetProperty("code").GetString());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadJsonAsync(response);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).Clone();

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await ReadJsonAsync(response);
    }

    private sealed class SubscriptionScope(IMessageQueue queue, string channel) : IDisposable
    {
        public string Id { get; } = queue.Subscribe(channel).Id;

        public void Dispose() => queue.Unsubscribe(Id);
    }
}
