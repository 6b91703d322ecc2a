using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Mcp;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>The queue tools of SPEC.md §2 through the SDK's MCP client over Streamable HTTP (in-process).</summary>
public sealed class McpToolsTests
{
    [Fact]
    public async Task ListTools_Always_DeclaresSixToolsWithSchemas()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var tools = (await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).ToDictionary(t => t.Name);

        Assert.Equal(
            ["queue_ack", "queue_list_channels", "queue_receive", "queue_request", "queue_send", "queue_stats", "queue_subscribe", "queue_unsubscribe"],
            tools.Keys.Order(StringComparer.Ordinal));
        foreach (var tool in tools.Values)
        {
            Assert.NotNull(tool.ProtocolTool.OutputSchema);
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
        }

        var receive = tools["queue_receive"].ProtocolTool.InputSchema.GetProperty("properties");
        Assert.Equal(
            ["ack_timeout", "blocking", "channel", "limit", "peek", "subscription_id", "timeout"],
            receive.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(10, receive.GetProperty("limit").GetProperty("default").GetInt32());
        Assert.Equal(1000, receive.GetProperty("limit").GetProperty("maximum").GetInt32());
        Assert.Equal(300, receive.GetProperty("timeout").GetProperty("maximum").GetInt32());
        Assert.Equal(30, receive.GetProperty("timeout").GetProperty("default").GetInt32());
        Assert.False(receive.GetProperty("blocking").GetProperty("default").GetBoolean());

        var send = tools["queue_send"].ProtocolTool.InputSchema;
        Assert.Equal("channel", Assert.Single(send.GetProperty("required").EnumerateArray()).GetString());
        Assert.Equal(604800, send.GetProperty("properties").GetProperty("ttl").GetProperty("maximum").GetInt32());
        Assert.Equal(3600, send.GetProperty("properties").GetProperty("ttl").GetProperty("default").GetInt32());
        Assert.Equal("integer", send.GetProperty("properties").GetProperty("ttl").GetProperty("type").GetString());

        var subscribe = tools["queue_subscribe"].ProtocolTool.InputSchema.GetProperty("properties");
        Assert.Equal(100, subscribe.GetProperty("buffer_size").GetProperty("default").GetInt32());
        Assert.Equal(10000, subscribe.GetProperty("buffer_size").GetProperty("maximum").GetInt32());
        Assert.Equal("integer", subscribe.GetProperty("since_seq").GetProperty("type").GetString());
        Assert.Equal("subscription_id", Assert.Single(tools["queue_unsubscribe"].ProtocolTool.InputSchema.GetProperty("required").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task QueueSend_Message_ReturnsStoredMessageAndDeliveredTo()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_subscribe", """{"channel":"events"}""");

        var result = await client.CallOkAsync("queue_send", """{"channel":"events","type":"click","payload":{"x":1,"tags":["a"]},"ttl":60}""");

        var message = result.GetProperty("message");
        Assert.Equal(1, result.GetProperty("delivered_to").GetInt32());
        Assert.Equal("events", message.GetProperty("channel").GetString());
        Assert.Equal(1, message.GetProperty("seq").GetInt64());
        Assert.Equal("click", message.GetProperty("type").GetString());
        Assert.Equal("""{"x":1,"tags":["a"]}""", message.GetProperty("payload").GetRawText());
        Assert.Equal(60, message.GetProperty("ttl").GetInt32());
        Assert.True(Guid.TryParse(message.GetProperty("id").GetString(), out _));
        var timestamp = DateTimeOffset.Parse(message.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var expires = DateTimeOffset.Parse(message.GetProperty("expires_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.FromSeconds(60), expires - timestamp);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", message.GetProperty("timestamp").GetString());
    }

    [Fact]
    public async Task QueueSend_Defaults_TypeMessagePayloadNullServerTtl()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var message = (await client.CallOkAsync("queue_send", """{"channel":"c"}""")).GetProperty("message");
        var forever = (await client.CallOkAsync("queue_send", """{"channel":"c","ttl":0}""")).GetProperty("message");

        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("payload").ValueKind);
        Assert.Equal(3600, message.GetProperty("ttl").GetInt32());
        Assert.Equal(JsonValueKind.Null, forever.GetProperty("expires_at").ValueKind);
    }

    [Fact]
    public async Task QueueReceive_FromChannel_ConsumesOldestFirstOnce()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        for (var i = 1; i <= 3; i++)
        {
            await client.CallOkAsync("queue_send", $$"""{"channel":"work","payload":{{i}}}""");
        }

        var peeked = await client.CallOkAsync("queue_receive", """{"channel":"work","peek":true,"limit":2}""");
        var first = await client.CallOkAsync("queue_receive", """{"channel":"work","limit":2}""");
        var rest = await client.CallOkAsync("queue_receive", """{"channel":"work"}""");
        var empty = await client.CallOkAsync("queue_receive", """{"channel":"work"}""");

        Assert.Equal(2, peeked.GetProperty("count").GetInt32());
        Assert.Equal([1, 2], first.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
        Assert.Equal(3, Assert.Single(rest.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetInt32());
        Assert.Equal(0, empty.GetProperty("count").GetInt32());
        Assert.False(first.TryGetProperty("dropped", out _));
    }

    [Fact]
    public async Task QueueReceive_FromSubscription_GetsCopiesAndDropped()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var subscription = await client.CallOkAsync("queue_subscribe", """{"channel":"feed","buffer_size":2}""");
        var id = subscription.GetProperty("subscription_id").GetString();
        Assert.Equal("feed", subscription.GetProperty("channel").GetString());
        Assert.Equal(2, subscription.GetProperty("buffer_size").GetInt32());
        for (var i = 1; i <= 3; i++)
        {
            await client.CallOkAsync("queue_send", $$"""{"channel":"feed","payload":{{i}}}""");
        }

        var read = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{id}}"}""");
        var backlog = await client.CallOkAsync("queue_receive", """{"channel":"feed","peek":true}""");

        Assert.Equal([2, 3], read.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
        Assert.Equal(1, read.GetProperty("dropped").GetInt64());
        Assert.Equal(3, backlog.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task QueueSubscribe_SinceSeq_DeliversRetainedBacklogFirst()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"s","payload":1}""");
        await client.CallOkAsync("queue_send", """{"channel":"s","payload":2}""");

        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"s","since_seq":1}""")).GetProperty("subscription_id").GetString();
        var read = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{id}}"}""");

        Assert.Equal(2, Assert.Single(read.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetInt32());
    }

    [Fact]
    public async Task QueueUnsubscribe_KnownThenUnknown_UnsubscribesThenErrors()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"u"}""")).GetProperty("subscription_id").GetString();

        var result = await client.CallOkAsync("queue_unsubscribe", $$"""{"subscription_id":"{{id}}"}""");
        var again = await client.CallErrorAsync("queue_unsubscribe", $$"""{"subscription_id":"{{id}}"}""");

        Assert.True(result.GetProperty("unsubscribed").GetBoolean());
        Assert.Contains("subscription_id", again, StringComparison.Ordinal);
        Assert.Contains("does not exist", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueListChannels_AfterSends_ListsSortedWithFigures()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"b"}""");
        await client.CallOkAsync("queue_send", """{"channel":"a"}""");
        await client.CallOkAsync("queue_send", """{"channel":"a"}""");
        await client.CallOkAsync("queue_subscribe", """{"channel":"b"}""");

        var channels = (await client.CallOkAsync("queue_list_channels")).GetProperty("channels").EnumerateArray().ToList();

        Assert.Equal(["a", "b"], channels.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(2, channels[0].GetProperty("messages").GetInt32());
        Assert.Equal(2, channels[0].GetProperty("last_seq").GetInt64());
        Assert.Equal(1, channels[1].GetProperty("subscriptions").GetInt32());
    }

    [Fact]
    public async Task QueueStats_SubscriptionsOfASessionAndASessionlessClient_ListLastReadAndIdleExpiryButNoOwnerlessId()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await using var sessionless = await McpTestClient.ConnectAsync(host, protocolVersion: "2026-07-28");
        var owned = (await client.CallOkAsync("queue_subscribe", """{"channel":"jobs"}""")).GetProperty("subscription_id").GetString();
        await sessionless.CallOkAsync("queue_subscribe", """{"channel":"jobs"}""");
        await client.CallOkAsync("queue_send", """{"channel":"jobs","payload":1}""");
        await client.CallOkAsync("queue_send", """{"channel":"jobs","payload":2}""");
        await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{owned}}","limit":1}""");

        var stats = await client.CallOkAsync("queue_stats");

        Assert.Equal(4, stats.GetProperty("messages_delivered").GetInt64());
        Assert.Equal(4, stats.GetProperty("channels").GetProperty("jobs").GetProperty("delivered").GetInt64());
        var subscriptions = stats.GetProperty("subscriptions").EnumerateArray().ToList();
        Assert.Equal(2, subscriptions.Count);
        var mine = Assert.Single(subscriptions, s => s.GetProperty("owner").GetString() == "mcp_session");
        var theirs = Assert.Single(subscriptions, s => s.GetProperty("owner").GetString() == "none");
        Assert.Equal(owned, mine.GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, theirs.GetProperty("id").ValueKind);
        Assert.Equal("jobs", mine.GetProperty("channel").GetString());
        Assert.Equal((1, 0L, false), (mine.GetProperty("buffered").GetInt32(), mine.GetProperty("dropped").GetInt64(), mine.GetProperty("reading").GetBoolean()));
        Assert.Equal(2, theirs.GetProperty("buffered").GetInt32());

        // Times are RFC 3339 UTC with milliseconds; the read moved last_read_at past created_at, and the idle limit
        // (10 minutes by default) counts from it.
        var created = DateTimeOffset.Parse(mine.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture);
        var lastRead = DateTimeOffset.Parse(mine.GetProperty("last_read_at").GetString()!, CultureInfo.InvariantCulture);
        var idleEnds = DateTimeOffset.Parse(mine.GetProperty("idle_expires_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.EndsWith("Z", mine.GetProperty("last_read_at").GetString(), StringComparison.Ordinal);
        Assert.True(lastRead >= created);
        Assert.Equal(TimeSpan.FromMinutes(10), idleEnds - lastRead);
        Assert.Equal(theirs.GetProperty("created_at").GetString(), theirs.GetProperty("last_read_at").GetString());
    }

    [Fact]
    public async Task QueueStats_AfterOperations_AgreesWithWhatClientSaw()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"x","payload":"hello"}""");
        await client.CallOkAsync("queue_send", """{"channel":"x"}""");
        await client.CallOkAsync("queue_receive", """{"channel":"x","limit":1}""");
        await client.CallOkAsync("queue_subscribe", """{"channel":"y"}""");

        var stats = await client.CallOkAsync("queue_stats");

        Assert.Equal(1, stats.GetProperty("total_messages").GetInt64());
        Assert.Equal(2, stats.GetProperty("total_channels").GetInt32());
        Assert.Equal(1, stats.GetProperty("total_subscriptions").GetInt32());
        Assert.Equal(2, stats.GetProperty("messages_sent").GetInt64());
        Assert.Equal(1, stats.GetProperty("messages_consumed").GetInt64());
        Assert.Equal(0, stats.GetProperty("messages_expired").GetInt64());
        Assert.Equal(0, stats.GetProperty("messages_dropped").GetInt64());
        Assert.True(stats.GetProperty("total_bytes").GetInt64() > 0);
        Assert.True(stats.GetProperty("uptime_seconds").GetInt64() >= 0);
        var x = stats.GetProperty("channels").GetProperty("x");
        Assert.Equal(1, x.GetProperty("messages").GetInt32());
        Assert.Equal(2, x.GetProperty("sent").GetInt64());
        Assert.Equal(1, x.GetProperty("consumed").GetInt64());
        Assert.Equal(1, stats.GetProperty("channels").GetProperty("y").GetProperty("subscriptions").GetInt32());
    }

    [Theory]
    [InlineData("queue_send", """{"type":"t"}""", "channel is required")]
    [InlineData("queue_send", """{"channel":"bad name!"}""", "channel must be 1-128 characters from A-Z a-z 0-9 . _ - : /")]
    [InlineData("queue_send", """{"channel":42}""", "channel must be a string")]
    [InlineData("queue_send", """{"channel":"c","ttl":1.5}""", "ttl must be an integer between 0 and 604800")]
    [InlineData("queue_send", """{"channel":"c","ttl":-1}""", "ttl must be an integer between 0 and 604800")]
    [InlineData("queue_send", """{"channel":"c","ttl":604801}""", "ttl must be an integer between 0 and 604800")]
    [InlineData("queue_send", """{"channel":"c","ttl":"60"}""", "ttl must be an integer between 0 and 604800")]
    [InlineData("queue_send", """{"channel":"c","ttl":1e300}""", "ttl must be an integer between 0 and 604800")]
    [InlineData("queue_send", """{"channel":"c","type":""}""", "type must be 1-128 characters")]
    [InlineData("queue_send", """{"channel":"c","type":7}""", "type must be a string")]
    [InlineData("queue_send", """{"channel":"c","color":"red"}""", "unknown argument 'color'")]
    [InlineData("queue_receive", """{}""", "exactly one of channel and subscription_id is required")]
    [InlineData("queue_receive", """{"channel":"c","subscription_id":"s"}""", "exactly one of channel and subscription_id is required")]
    [InlineData("queue_receive", """{"channel":"c","limit":"x"}""", "limit must be an integer between 1 and 1000")]
    [InlineData("queue_receive", """{"channel":"c","limit":0}""", "limit must be an integer between 1 and 1000")]
    [InlineData("queue_receive", """{"channel":"c","limit":1001}""", "limit must be an integer between 1 and 1000")]
    [InlineData("queue_receive", """{"channel":"c","limit":2.5}""", "limit must be an integer between 1 and 1000")]
    [InlineData("queue_receive", """{"channel":"c","timeout":301}""", "timeout must be a number of seconds between 0 and 300")]
    [InlineData("queue_receive", """{"channel":"c","timeout":"soon"}""", "timeout must be a number of seconds between 0 and 300")]
    [InlineData("queue_receive", """{"channel":"c","blocking":"yes"}""", "blocking must be a boolean")]
    [InlineData("queue_receive", """{"channel":"c","peek":1}""", "peek must be a boolean")]
    [InlineData("queue_receive", """{"subscription_id":"nope"}""", "subscription_id 'nope' does not exist")]
    [InlineData("queue_subscribe", """{}""", "channel is required")]
    [InlineData("queue_subscribe", """{"channel":"c","buffer_size":0}""", "buffer_size must be an integer between 1 and 10000")]
    [InlineData("queue_subscribe", """{"channel":"c","buffer_size":"big"}""", "buffer_size must be an integer between 1 and 10000")]
    [InlineData("queue_subscribe", """{"channel":"c","since_seq":-1}""", "since_seq must be an integer of at least 0")]
    [InlineData("queue_subscribe", """{"channel":"c","since_seq":0.5}""", "since_seq must be an integer of at least 0")]
    [InlineData("queue_unsubscribe", """{}""", "subscription_id is required")]
    [InlineData("queue_unsubscribe", """{"subscription_id":"nope"}""", "subscription_id 'nope' does not exist")]
    [InlineData("queue_list_channels", """{"x":1}""", "unknown argument 'x'")]
    [InlineData("queue_stats", """{"x":1}""", "unknown argument 'x'")]
    [InlineData("queue_nothing", """{}""", "unknown tool 'queue_nothing'")]
    public async Task Tool_BadArgument_IsErrorNamingArgumentAndRule(string tool, string arguments, string expected)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var error = await client.CallErrorAsync(tool, arguments);

        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task QueueReceive_PeekWithSubscription_IsError()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"p"}""")).GetProperty("subscription_id").GetString();

        var error = await client.CallErrorAsync("queue_receive", $$"""{"subscription_id":"{{id}}","peek":true}""");

        Assert.Contains("peek is only allowed with channel", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueSend_TooLarge_IsErrorNamingPayload()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxMessageBytes"] = "200" });
        await using var client = await McpTestClient.ConnectAsync(host);

        var error = await client.CallErrorAsync("queue_send", $$"""{"channel":"big","payload":"{{new string('x', 500)}}"}""");

        Assert.Contains("message must be at most 200 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueSubscribe_OverSessionLimit_IsErrorAndOtherSessionsUnaffected()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxSubscriptionsPerOwner"] = "2" });
        await using var client = await McpTestClient.ConnectAsync(host);
        await using var other = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_subscribe", """{"channel":"l"}""");
        await client.CallOkAsync("queue_subscribe", """{"channel":"l"}""");

        var error = await client.CallErrorAsync("queue_subscribe", """{"channel":"l"}""");
        await other.CallOkAsync("queue_subscribe", """{"channel":"l"}""");

        Assert.Contains("subscription limit of 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueSend_OverTotalBytes_IsQueueFullAndKeepsStoredMessages()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxTotalBytes"] = "64" });
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", $$"""{"channel":"f","payload":"{{new string('a', 40)}}"}""");

        var error = await client.CallErrorAsync("queue_send", $$"""{"channel":"f","payload":"{{new string('b', 40)}}"}""");
        var kept = await client.CallOkAsync("queue_receive", """{"channel":"f","peek":true}""");

        Assert.Contains("queue_full", error, StringComparison.Ordinal);
        Assert.Equal(1, kept.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task QueueReceive_BlockingSendFromOtherSession_WakesWithMessage()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var waiter = await McpTestClient.ConnectAsync(host);
        await using var sender = await McpTestClient.ConnectAsync(host);

        var waiting = waiter.CallOkAsync("queue_receive", """{"channel":"wake","blocking":true,"timeout":30}""");
        await WaitUntilAsync(() => ReceiverWaiting(host.Queue));
        await sender.CallOkAsync("queue_send", """{"channel":"wake","payload":"hi"}""");
        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal("hi", Assert.Single(result.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetString());
    }

    [Fact]
    public async Task QueueReceive_BlockingTimeout_ReturnsEmptyList()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var result = await client.CallOkAsync("queue_receive", """{"channel":"quiet","blocking":true,"timeout":0.05}""");

        Assert.Equal(0, result.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task QueueReceive_BlockingCancelledByClient_LosesNoMessage()
    {
        var probe = new ToolCallProbe();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: probe.Install);
        await using var client = await McpTestClient.ConnectAsync(host);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var finished = probe.NextFinished;
        var waiting = client.CallCancellableAsync("queue_receive", """{"channel":"c1","blocking":true,"timeout":60}""", cancel.Token);
        await WaitUntilAsync(() => ReceiverWaiting(host.Queue));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        await finished.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        host.Queue.Send("c1", new MessageDraft(Payload: JsonPayload.Parse("\"kept\"")));
        var after = await client.CallOkAsync("queue_receive", """{"channel":"c1"}""");

        Assert.Equal("kept", Assert.Single(after.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetString());
    }

    [Theory]
    [InlineData("nope/method", null, -32601, "Method 'nope/method' is not available.")]
    [InlineData("prompts/list", null, -32601, "Method 'prompts/list' is not available.")]
    [InlineData("notifications/cancelled", """{"requestId":1}""", -32601, "Method 'notifications/cancelled' is not available.")]
    [InlineData("logging/setLevel", """{"level":"loud"}""", -32602, "Invalid params for logging/setLevel: level is not valid (see the MCP specification)")]
    [InlineData("completion/complete", "{}", -32602, "Invalid params for completion/complete: missing 'ref', 'argument'")]
    [InlineData("tools/list", """{"cursor":5}""", -32602, "Invalid params for tools/list: cursor is not valid (see the MCP specification)")]
    public async Task Request_UnknownMethodOrParamsTheSdkCannotRead_AnsweredWithOneDebugLine(string method, string? parameters, int code, string message)
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.InstallWithDebug);
        using var session = await RawMcpHttpClient.StartAsync(host.CreateHttpClient());

        var request = parameters is null
            ? $$"""{"jsonrpc":"2.0","id":9,"method":"{{method}}"}"""
            : $$"""{"jsonrpc":"2.0","id":9,"method":"{{method}}","params":{{parameters}}}""";
        using var response = await session.PostAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Contains("\"id\":9", body, StringComparison.Ordinal);
        Assert.Contains($"\"code\":{code}", body, StringComparison.Ordinal);
        Assert.Contains(JsonSerializer.Serialize(message)[1..^1], body, StringComparison.Ordinal);
        McpCancellationTests.AssertOneDebugLine(logs, McpLogEvents.RequestRefused);
    }

    [Fact]
    public async Task LoggingSetLevel_ValidLevel_StillServedBySdk()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        using var session = await RawMcpHttpClient.StartAsync(host.CreateHttpClient());

        using var response = await session.PostAsync("""{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"debug"}}""", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Contains("\"result\":{}", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"queue_send","arguments":"channel=c"}""", "arguments must be a JSON object")]
    [InlineData("""{"arguments":{}}""", "name must be a string")]
    [InlineData("""[1]""", "tools/call needs params")]
    public async Task ToolsCall_ParamsNotNameAndArguments_AnswersInvalidParamsAndLogsNothingAboveDebug(string parameters, string message)
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.Install);
        using var session = await RawMcpHttpClient.StartAsync(host.CreateHttpClient());

        using var response = await session.PostAsync($$"""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{{parameters}}}""", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Contains("\"id\":5", body, StringComparison.Ordinal);
        Assert.Contains("-32602", body, StringComparison.Ordinal);
        Assert.Contains(message, body, StringComparison.Ordinal);
        Assert.Empty(logs.RequestLogs());
    }

    /// <summary>True once a blocking receive is waiting in the engine (so a send now must wake it).</summary>
    internal static bool ReceiverWaiting(IMessageQueue queue) => queue.GetStats().WaitingReceivers > 0;

    internal static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    /// <summary>Awaits <paramref name="condition"/>, checking every 10 ms; fails the test after 10 seconds.</summary>
    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
