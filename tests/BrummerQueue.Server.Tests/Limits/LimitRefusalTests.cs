using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Server.Tests.Cli;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Limits;

/// <summary>
/// Each limit of SPEC.md section 5 hit on at least one face: the wire code, a message naming the limit and the
/// setting that raises it (flag and variable), and the <c>brummerq_limit_hits_total</c> series of that limit.
/// </summary>
public sealed class LimitRefusalTests
{
    [Fact]
    public async Task WebSocketSend_OverMaxMessageBytes_MessageTooLargeNamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxMessageBytes"] = "300" }, LimitMetrics.OwnMeter);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var error = (await socket.RequestAsync("queue_message", "big", new { channel = "c", payload = new string('x', 400) })).GetProperty("data");

        Assert.Equal("message_too_large", error.GetProperty("code").GetString());
        AssertNamesSetting(error.GetProperty("message").GetString(), "MaxMessageBytes", "--max-message-bytes", "BRUMMERQ_MAX_MESSAGE_BYTES");
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_message_bytes"));
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task HttpSend_BodyOverMessageLimit_413MessageTooLargeNamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxMessageBytes"] = "300" }, LimitMetrics.OwnMeter);
        using var client = host.CreateHttpClient();
        var body = "{\"payload\":\"" + new string('x', 70 * 1024) + "\"}";

        using var response = await client.PostAsync(new Uri("/api/channels/c/messages", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("message_too_large", problem.GetProperty("code").GetString());
        AssertNamesSetting(problem.GetProperty("detail").GetString(), "MaxMessageBytes", "--max-message-bytes", "BRUMMERQ_MAX_MESSAGE_BYTES");
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_message_bytes"));
    }

    [Fact]
    public async Task McpSend_OverMaxTotalBytes_QueueFullStructuredErrorNamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxTotalBytes"] = "64" }, LimitMetrics.OwnMeter);
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", $$"""{"channel":"f","payload":"{{new string('a', 40)}}"}""");

        var result = await client.CallAsync("queue_send", $$"""{"channel":"f","payload":"{{new string('b', 40)}}"}""");

        Assert.True(result.IsError);
        Assert.NotNull(result.Meta);
        var error = System.Text.Json.JsonSerializer.SerializeToElement(result.Meta["brummerq/error"]);
        Assert.Null(result.StructuredContent);
        Assert.Equal("queue_full", error.GetProperty("code").GetString());
        var text = Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.Equal(error.GetProperty("message").GetString(), text);
        Assert.StartsWith("queue_full: ", text, StringComparison.Ordinal);
        AssertNamesSetting(text, "MaxTotalBytes", "--max-total-bytes", "BRUMMERQ_MAX_TOTAL_BYTES");
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_total_bytes"));
        Assert.Equal(1, host.Queue.GetStats().TotalMessages);
    }

    [Fact]
    public async Task WebSocketSend_OverMaxChannels_QueueFullNamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxChannels"] = "1" }, LimitMetrics.OwnMeter);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        Assert.Equal("ack", (await socket.RequestAsync("queue_message", "one", new { channel = "first" })).GetProperty("type").GetString());

        var error = (await socket.RequestAsync("queue_message", "two", new { channel = "second" })).GetProperty("data");

        Assert.Equal("queue_full", error.GetProperty("code").GetString());
        Assert.Equal("channel", error.GetProperty("field").GetString());
        AssertNamesSetting(error.GetProperty("message").GetString(), "MaxChannels", "--max-channels", "BRUMMERQ_MAX_CHANNELS");
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_channels"));
    }

    [Fact]
    public async Task HttpSend_OverMaxChannels_429QueueFull()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxChannels"] = "1" }, LimitMetrics.OwnMeter);
        using var client = host.CreateHttpClient();
        using var first = await client.PostAsync(new Uri("/api/channels/a/messages", UriKind.Relative), new StringContent("{}"), TestContext.Current.CancellationToken);

        using var second = await client.PostAsync(new Uri("/api/channels/b/messages", UriKind.Relative), new StringContent("{}"), TestContext.Current.CancellationToken);
        var problem = JsonDocument.Parse(await second.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("queue_full", problem.GetProperty("code").GetString());
        AssertNamesSetting(problem.GetProperty("detail").GetString(), "MaxChannels", "--max-channels", "BRUMMERQ_MAX_CHANNELS");
    }

    [Fact]
    public async Task McpSubscribe_OverMaxSubscriptionsPerOwner_TooManySubscriptionsNamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:MaxSubscriptionsPerOwner"] = "1" }, LimitMetrics.OwnMeter);
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_subscribe", """{"channel":"l"}""");

        var result = await client.CallAsync("queue_subscribe", """{"channel":"l"}""");

        Assert.True(result.IsError);
        Assert.NotNull(result.Meta);
        var error = System.Text.Json.JsonSerializer.SerializeToElement(result.Meta["brummerq/error"]);
        Assert.Null(result.StructuredContent);
        Assert.Equal("too_many_subscriptions", error.GetProperty("code").GetString());
        AssertNamesSetting(error.GetProperty("message").GetString(), "MaxSubscriptionsPerOwner", "--max-subscriptions-per-owner", "BRUMMERQ_MAX_SUBSCRIPTIONS_PER_OWNER");
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_subscriptions_per_owner"));
    }

    [Fact]
    public async Task HttpSend_OverChannelCapacity_EvictsOldestAndCountsChannelCapacity()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:ChannelCapacity"] = "2" }, LimitMetrics.OwnMeter);
        using var client = host.CreateHttpClient();
        for (var i = 1; i <= 3; i++)
        {
            using var sent = await client.PostAsync(new Uri("/api/channels/cap/messages", UriKind.Relative), new StringContent($$"""{"payload":{{i}}}"""), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        }

        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "channel_capacity"));
        Assert.Equal(2, host.Queue.GetStats().TotalMessages);
    }

    [Fact]
    public async Task WebSocket_OverMaxConnections_TooManyConnectionsClose1013NamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MaxConnections"] = "1" }, LimitMetrics.OwnMeter);
        var (first, _) = await TestSocket.ConnectAsync(host);
        await using var __ = first;

        await using var second = await TestSocket.OpenAsync(host);
        var error = (await second.ReceiveAsync("error")).GetProperty("data");
        var (status, reason) = await second.ReceiveCloseAsync();

        Assert.Equal("too_many_connections", error.GetProperty("code").GetString());
        AssertNamesSetting(error.GetProperty("message").GetString(), "MaxConnections", "--max-connections", "BRUMMERQ_MAX_CONNECTIONS");
        Assert.Equal(1013, (int?)status);
        Assert.Equal("too many connections", reason);
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_connections"));
        Assert.Equal("pong", (await first.RequestAsync("ping", "still")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task WebSocket_FrameOverMaxFrameBytes_MessageTooLargeClose1009NamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MaxFrameBytes"] = "1024" }, LimitMetrics.OwnMeter);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync(new { type = "queue_message", id = "big", data = new { channel = "c", payload = new string('x', 4000) } });
        var error = (await socket.ReceiveAsync("error")).GetProperty("data");
        var (status, _) = await socket.ReceiveCloseAsync();

        Assert.Equal("message_too_large", error.GetProperty("code").GetString());
        AssertNamesSetting(error.GetProperty("message").GetString(), "MaxFrameBytes", "--max-frame-bytes", "BRUMMERQ_MAX_FRAME_BYTES");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_frame_bytes"));
    }

    [Fact]
    public async Task WebSocket_OverMaxFramesPerSecond_RateLimitedClose1008NamingSettingAndCounted()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MaxFramesPerSecond"] = "5" }, LimitMetrics.OwnMeter);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        for (var i = 0; i < 20; i++)
        {
            await socket.SendAsync(new { type = "ping" });
        }

        JsonElement frame;
        do
        {
            frame = await socket.ReceiveAsync();
        }
        while (frame.GetProperty("type").GetString() == "pong");
        var (status, _) = await socket.ReceiveCloseAsync();

        var error = frame.GetProperty("data");
        Assert.Equal("rate_limited", error.GetProperty("code").GetString());
        AssertNamesSetting(error.GetProperty("message").GetString(), "MaxFramesPerSecond", "--max-frames-per-second", "BRUMMERQ_MAX_FRAMES_PER_SECOND");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_frames_per_second"));
    }

    [Fact]
    public async Task WebSocketReceive_TooManyBlockingReceives_RateLimitedAndCounted()
    {
        await using var host = await TestServerHost.StartInProcessAsync(configure: LimitMetrics.OwnMeter);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        for (var i = 0; i < 32; i++)
        {
            await socket.SendAsync(new { type = "queue_receive", id = $"w{i}", data = new { channel = "never", blocking = true, timeout = 300 } });
        }

        var error = (await socket.RequestAsync("queue_receive", "one-too-many", new { channel = "never", blocking = true })).GetProperty("data");

        Assert.Equal("rate_limited", error.GetProperty("code").GetString());
        Assert.Contains("at most 32 blocking receives", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await LimitMetrics.HitsAsync(host, "max_pending_receives"));
    }

    [Fact]
    public async Task Metrics_NoLimitHit_EveryLimitSeriesAtZero()
    {
        await using var host = await TestServerHost.StartInProcessAsync(configure: LimitMetrics.OwnMeter);

        foreach (var limit in new[] { "max_message_bytes", "max_total_bytes", "max_channels", "max_subscriptions_per_owner", "max_connections", "max_frame_bytes", "max_frames_per_second", "max_pending_receives", "channel_capacity" })
        {
            Assert.Equal(0, await LimitMetrics.HitsAsync(host, limit));
        }
    }

    [Fact]
    public async Task ServeHelp_EveryLimitAndTokenSetting_Listed()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync("serve", "--help");

        Assert.Equal(0, exitCode);
        foreach (var flag in new[] { "--max-message-bytes", "--channel-capacity", "--max-channels", "--max-total-bytes", "--max-connections", "--max-subscriptions-per-owner", "--max-frame-bytes", "--max-frames-per-second", "--token", "--insecure-no-token" })
        {
            Assert.Contains(flag, output.Text, StringComparison.Ordinal);
        }
    }

    private static void AssertNamesSetting(string? message, string setting, string flag, string variable)
    {
        Assert.NotNull(message);
        Assert.Contains($"limit {setting}: raise it with {flag} or {variable}", message, StringComparison.Ordinal);
    }
}
