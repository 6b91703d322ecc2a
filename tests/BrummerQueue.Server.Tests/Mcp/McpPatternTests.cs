using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>MCP <c>queue_subscribe</c> with a wildcard pattern (issue 13 point 2) through the SDK's client over Streamable HTTP.</summary>
public sealed class McpPatternTests
{
    [Fact]
    public async Task QueueSubscribe_Pattern_RepliesWithoutEpochAndReceiveGetsEveryMatchingChannel()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"app.a","payload":0}""");

        var subscribed = await client.CallOkAsync("queue_subscribe", """{"channel":"app.>"}""");
        Assert.Equal("app.>", subscribed.GetProperty("channel").GetString());
        Assert.False(subscribed.TryGetProperty("epoch", out _));
        var id = subscribed.GetProperty("subscription_id").GetString();

        var sent = await client.CallOkAsync("queue_send", """{"channel":"app.a","payload":1}""");
        Assert.Equal(1, sent.GetProperty("delivered_to").GetInt32());
        await client.CallOkAsync("queue_send", """{"channel":"web.x","payload":2}""");
        await client.CallOkAsync("queue_send", """{"channel":"app.new.deep","payload":3}""");

        var received = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{id}}","limit":10}""");
        Assert.Equal(
            ["app.a 2 1", "app.new.deep 1 3"],
            received.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("channel").GetString()} {m.GetProperty("seq").GetInt64()} {m.GetProperty("payload").GetRawText()}"));

        var stats = await client.CallOkAsync("queue_stats");
        Assert.Equal(1, stats.GetProperty("total_subscriptions").GetInt32());
        Assert.Equal(0, stats.GetProperty("channels").GetProperty("app.a").GetProperty("subscriptions").GetInt32());
        await client.CallOkAsync("queue_unsubscribe", $$"""{"subscription_id":"{{id}}"}""");
    }

    [Fact]
    public async Task QueueSubscribe_PatternWithSinceSeq_IsErrorSayingWhy()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var error = await client.CallErrorAsync("queue_subscribe", """{"channel":"app.*","since_seq":0}""");

        Assert.Contains("since_seq is not allowed with a pattern channel", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListTools_QueueSubscribe_ChannelSchemaAdmitsPatterns()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var channel = tools.Single(t => t.Name == "queue_subscribe").ProtocolTool.InputSchema.GetProperty("properties").GetProperty("channel");

        Assert.Matches(channel.GetProperty("pattern").GetString()!, "app.>");
        Assert.Contains("pattern", channel.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(JsonSerializer.Serialize(tools.Single(t => t.Name == "queue_subscribe").ProtocolTool.OutputSchema), "\"required\":[\"subscription_id\",\"channel\",\"buffer_size\",\"epoch\"]", StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueSubscribe_PatternPush_EventMetaNamesTheMessagesChannelAndThePattern()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var events = new ChannelEventCollector();
        await using var client = await McpTestClient.ConnectAsync(host, events.ClientOptions());
        var subscriptionId = (await client.CallOkAsync("queue_subscribe", """{"channel":"web.>","push":true}""")).GetProperty("subscription_id").GetString();

        host.Queue.Send("web.tab1", new MessageDraft(Type: "click", Payload: JsonPayload.Parse("1")));
        var (content, meta) = await events.NextAsync();

        Assert.Equal("web.tab1", Assert.Single(ChannelEventCollector.Messages(content)).GetProperty("channel").GetString());
        Assert.Equal("web.tab1", meta["channel"]);
        Assert.Equal("web.>", meta["pattern"]);
        Assert.Equal(subscriptionId, meta["subscription_id"]);
    }

    [Fact]
    public async Task SubscribeResource_PatternSubscription_NotifiedWhenAMatchingChannelGetsAMessage()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"inbox.*"}""")).GetProperty("subscription_id").GetString();
        var uri = "brummerq://subscriptions/" + id;
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await client.SubscribeToResourceAsync(
            uri,
            (update, _) => { updated.TrySetResult(update.Uri); return ValueTask.CompletedTask; },
            cancellationToken: TestContext.Current.CancellationToken);

        // The update travels on the client's GET stream, opened in the background: send until it arrives (bounded).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 100 && !updated.Task.IsCompleted; i++)
        {
            host.Queue.Send("inbox.a", default);
            await Task.WhenAny(updated.Task, Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token));
        }

        Assert.Equal(uri, await updated.Task.WaitAsync(timeout.Token));
    }
}
