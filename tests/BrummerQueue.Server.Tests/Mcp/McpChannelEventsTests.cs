using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// Waking the assistant (SPEC.md §2, Claude Code channels): push subscriptions send each message to their MCP client as
/// <c>notifications/claude/channel</c>, over Streamable HTTP, stdio (<c>brummerq mcp --wake</c>) and attach mode.
/// </summary>
public sealed class McpChannelEventsTests
{
    [Fact]
    public async Task Initialize_AnyClient_DeclaresClaudeChannelAndExplainsEvents()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var experimental = client.ServerCapabilities.Experimental;
        Assert.NotNull(experimental);
        Assert.True(experimental.ContainsKey("claude/channel"));
        var instructions = client.ServerInstructions;
        Assert.NotNull(instructions);
        Assert.Contains("<channel>", instructions, StringComparison.Ordinal);
        Assert.Contains("queue_receive {subscription_id}", instructions, StringComparison.Ordinal);
        Assert.InRange(instructions.Length, 1, 1000);
    }

    [Fact]
    public async Task QueueSubscribe_PushOverHttp_WebSocketMessageArrivesAsChannelEventAndStaysInBacklog()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var events = new ChannelEventCollector();
        await using var client = await McpTestClient.ConnectAsync(host, events.ClientOptions());
        var subscribed = await client.CallOkAsync("queue_subscribe", """{"channel":"from-web","push":true}""");
        var subscriptionId = subscribed.GetProperty("subscription_id").GetString()!;

        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using (socket)
        {
            await socket.RequestAsync("queue_message", "1", new { channel = "from-web", type = "click", payload = new { button = "save", text = "grüß" } });
        }

        var (content, meta) = await events.NextAsync();
        var message = Assert.Single(ChannelEventCollector.Messages(content));
        var backlog = await client.CallOkAsync("queue_receive", """{"channel":"from-web","peek":true}""");
        var fromSubscription = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{subscriptionId}}"}""");

        Assert.True(subscribed.GetProperty("push").GetBoolean());
        Assert.DoesNotContain('\n', content);
        Assert.Equal("from-web", message.GetProperty("channel").GetString());
        Assert.Equal("save", message.GetProperty("payload").GetProperty("button").GetString());
        Assert.Equal("grüß", message.GetProperty("payload").GetProperty("text").GetString());
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["channel"] = "from-web",
                ["subscription_id"] = subscriptionId,
                ["count"] = "1",
                ["type"] = "click",
                ["seq"] = "1",
                ["message_id"] = message.GetProperty("id").GetString()!,
            },
            meta);
        Assert.Equal(1, backlog.GetProperty("count").GetInt32());
        Assert.Equal(0, fromSubscription.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task QueueSubscribe_PushAndResourceSubscribe_ClientGetsBothNotifications()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var events = new ChannelEventCollector();
        await using var client = await McpTestClient.ConnectAsync(host, events.ClientOptions());
        var subscriptionId = (await client.CallOkAsync("queue_subscribe", """{"channel":"both","push":true}"""))
            .GetProperty("subscription_id").GetString()!;
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var watch = await client.SubscribeToResourceAsync(
            $"brummerq://subscriptions/{subscriptionId}",
            (update, _) =>
            {
                updated.TrySetResult(update.Uri);
                return ValueTask.CompletedTask;
            },
            cancellationToken: TestContext.Current.CancellationToken);

        host.Queue.Send("both", new MessageDraft(Payload: JsonPayload.Parse("1")));
        var uri = await updated.Task.WaitAsync(ChannelEventCollector.Timeout, TestContext.Current.CancellationToken);
        var (_, meta) = await events.NextAsync();

        Assert.Equal($"brummerq://subscriptions/{subscriptionId}", uri);
        Assert.Equal(subscriptionId, meta["subscription_id"]);
    }

    [Fact]
    public async Task QueueSubscribe_PushWithoutSession_RefusedNamingPush()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var tools = host.Services.GetRequiredService<BrummerQueue.Server.Mcp.QueueTools>();
        var arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"channel":"c","push":true}""");

        var result = await tools.CallAsync("queue_subscribe", arguments, session: null, requestItems: null, TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("push: true needs an MCP session", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
        Assert.Equal(0, host.Queue.GetStats().TotalSubscriptions);
    }

    [Fact]
    public async Task QueueSubscribe_PushFlood_CoalescedIntoFewEventsAndEveryMessageAccountedFor()
    {
        const int Flood = 300;
        await using var host = await TestServerHost.StartInProcessAsync();
        var events = new ChannelEventCollector();
        await using var client = await McpTestClient.ConnectAsync(host, events.ClientOptions());
        var subscriptionId = (await client.CallOkAsync("queue_subscribe", """{"channel":"flood","push":true,"buffer_size":1000}"""))
            .GetProperty("subscription_id").GetString()!;
        host.Queue.Send("flood", new MessageDraft(Payload: JsonPayload.Parse("0")));
        var seen = new List<long>();
        var received = new List<(string Content, Dictionary<string, string> Meta)> { await events.NextAsync() };
        seen.AddRange(ChannelEventCollector.Messages(received[0].Content).Select(m => m.GetProperty("seq").GetInt64()));

        for (var i = 1; i <= Flood; i++)
        {
            host.Queue.Send("flood", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(CultureInfo.InvariantCulture))));
        }

        // The next event comes at least a second after the first: the whole flood is waiting by then.
        var coalesced = await events.NextAsync();
        received.Add(coalesced);
        var listed = ChannelEventCollector.Messages(coalesced.Content);
        seen.AddRange(listed.Select(m => m.GetProperty("seq").GetInt64()));
        var more = int.Parse(coalesced.Meta["more"], CultureInfo.InvariantCulture);
        Assert.Equal(10, listed.Count);
        Assert.Equal("10", coalesced.Meta["count"]);
        Assert.Equal(Flood + 1, seen.Count + more);
        Assert.EndsWith(
            $"and {more} more waiting in subscription {subscriptionId}; read them with queue_receive {{\"subscription_id\":\"{subscriptionId}\"}}",
            coalesced.Content,
            StringComparison.Ordinal);

        // The rest is read as the event says; a later event may still take some first. Each message comes exactly once.
        var drained = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{subscriptionId}}","limit":1000}""");
        seen.AddRange(drained.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
        while (seen.Count < Flood + 1)
        {
            var late = await events.NextAsync();
            received.Add(late);
            seen.AddRange(ChannelEventCollector.Messages(late.Content).Select(m => m.GetProperty("seq").GetInt64()));
        }

        Assert.Equal(Enumerable.Range(1, Flood + 1).Select(i => (long)i), seen.Order());
        Assert.InRange(received.Count, 2, 4);
        Assert.False(events.TryNext(out _));
    }

    [Fact]
    public async Task QueueSubscribe_PushClientWithoutGetStream_MessagesWaitInSubscription()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var events = new ChannelEventCollector();
        await using var client = await McpTestClient.ConnectAsync(host, events.ClientOptions(), standaloneGetStream: false);
        var subscriptionId = (await client.CallOkAsync("queue_subscribe", """{"channel":"no-stream","push":true}"""))
            .GetProperty("subscription_id").GetString()!;

        // The SDK would drop a notification without a GET stream: the pump waits for one instead of taking the message.
        host.Queue.Send("no-stream", new MessageDraft(Payload: JsonPayload.Parse("\"kept\"")));
        var read = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{subscriptionId}}","blocking":true,"timeout":10}""");

        Assert.Equal("kept", Assert.Single(read.GetProperty("messages").EnumerateArray()).GetProperty("payload").GetString());
        Assert.False(events.TryNext(out _));
    }

    [Fact]
    public async Task McpWake_StdioProcess_WebSocketMessageArrivesAsChannelEvent()
    {
        var port = BrummerqProcess.FreePort();
        var events = new ChannelEventCollector();
        await using var client = await BrummerqProcess.ConnectStdioAsync(port, arguments: ["--wake", "from-web"], options: events.ClientOptions());

        await SendOverWebSocketAsync(port, "from-web", """{"task":"deploy"}""");
        var (content, meta) = await events.NextAsync();
        var stats = await client.CallOkAsync("queue_stats");
        var backlog = await client.CallOkAsync("queue_receive", """{"channel":"from-web","peek":true}""");

        Assert.True(client.ServerCapabilities.Experimental?.ContainsKey("claude/channel"));
        var message = Assert.Single(ChannelEventCollector.Messages(content));
        Assert.Equal("deploy", message.GetProperty("payload").GetProperty("task").GetString());
        Assert.Equal("from-web", meta["channel"]);
        Assert.Equal("1", meta["seq"]);
        Assert.Equal(1, stats.GetProperty("total_subscriptions").GetInt32());
        Assert.Equal(1, backlog.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task McpWake_AttachedProcess_HostingServerEventsAreRelayed()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var events = new ChannelEventCollector();
        var stderr = new List<string>();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(host.BaseAddress.Port, stderr, arguments: ["--wake", "from-web"], options: events.ClientOptions());
        var pushed = await attached.CallOkAsync("queue_subscribe", """{"channel":"second","push":true}""");

        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using (socket)
        {
            await socket.RequestAsync("queue_message", "1", new { channel = "from-web", payload = "woken" });
            await socket.RequestAsync("queue_message", "2", new { channel = "second", payload = "again" });
        }

        var first = await events.NextAsync();
        var second = await events.NextAsync();
        var byChannel = new[] { first, second }.ToDictionary(e => e.Meta["channel"], StringComparer.Ordinal);

        lock (stderr)
        {
            Assert.Contains(stderr, l => l.Contains("Attached to the brummerq at", StringComparison.Ordinal));
        }

        Assert.Equal("woken", Assert.Single(ChannelEventCollector.Messages(byChannel["from-web"].Content)).GetProperty("payload").GetString());
        Assert.Equal("again", Assert.Single(ChannelEventCollector.Messages(byChannel["second"].Content)).GetProperty("payload").GetString());
        Assert.Equal(pushed.GetProperty("subscription_id").GetString(), byChannel["second"].Meta["subscription_id"]);
        Assert.Equal(2, host.Queue.GetStats().TotalSubscriptions);
    }

    [Fact]
    public async Task McpWake_BadChannelName_ExitsWithMessageNamingIt()
    {
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture), "--wake", "no spaces");
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--wake no spaces: channel must be 1-128 characters", await stderr, StringComparison.Ordinal);
    }

    /// <summary>A browser's send: the seed's <c>queue_message</c> frame, acknowledged.</summary>
    private static async Task SendOverWebSocketAsync(int port, string channel, string payloadJson)
    {
        using var socket = new ClientWebSocket();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/__brummer_ws__"), timeout.Token);
        var frame = $$$"""{"type":"queue_message","id":"1","data":{"channel":"{{{channel}}}","payload":{{{payloadJson}}}}}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            var reply = JsonDocument.Parse(buffer.AsMemory(0, read.Count)).RootElement;
            if (reply.GetProperty("type").GetString() == "ack")
            {
                break;
            }
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
    }
}
