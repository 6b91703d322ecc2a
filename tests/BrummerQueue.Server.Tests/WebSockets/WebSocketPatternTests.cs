using BrummerQueue.Core;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>WebSocket <c>queue_subscribe</c> with a wildcard pattern (issue 13 point 2; docs/protocol.md "Wildcard subscriptions").</summary>
public sealed class WebSocketPatternTests
{
    [Fact]
    public async Task QueueSubscribe_Pattern_RepliesWithoutEpochAndPushesEachMatchingChannelsMessages()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        host.Queue.Send("browser.tab1", new MessageDraft(Payload: JsonPayload.Parse("0")));
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var reply = await socket.RequestAsync("queue_subscribe", "s1", new { channel = "browser.*" });

        Assert.Equal("subscribed", reply.GetProperty("type").GetString());
        var data = reply.GetProperty("data");
        Assert.Equal("browser.*", data.GetProperty("channel").GetString());
        Assert.False(data.TryGetProperty("epoch", out _));
        Assert.False(data.TryGetProperty("recovered", out _));
        var subscriptionId = data.GetProperty("subscription_id").GetString();

        host.Queue.Send("browser.tab1", new MessageDraft(Payload: JsonPayload.Parse("1")));
        host.Queue.Send("browser.tab1.deep", new MessageDraft(Payload: JsonPayload.Parse("2")));
        host.Queue.Send("browser.tab2", new MessageDraft(Payload: JsonPayload.Parse("3")));
        var pushes = new[] { await socket.ReceiveAsync("queue_message"), await socket.ReceiveAsync("queue_message") };
        Assert.All(pushes, p => Assert.Equal(subscriptionId, p.GetProperty("data").GetProperty("subscription_id").GetString()));
        Assert.Equal(
            ["browser.tab1 2 1", "browser.tab2 1 3"],
            pushes.Select(p => p.GetProperty("data").GetProperty("message")).Select(m => $"{m.GetProperty("channel").GetString()} {m.GetProperty("seq").GetInt64()} {m.GetProperty("payload").GetRawText()}"));

        var gone = await socket.RequestAsync("queue_unsubscribe", "u1", new { subscription_id = subscriptionId });
        Assert.Equal("unsubscribed", gone.GetProperty("type").GetString());
        Assert.Equal(0, host.Queue.Send("browser.tab3", new MessageDraft()).DeliveredTo);
    }

    [Fact]
    public async Task QueueSubscribe_PatternWithSinceSeq_ErrorNamesSinceSeqAndWhy()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var reply = await socket.RequestAsync("queue_subscribe", "s1", new { channel = "app.>", since_seq = 0 });

        Assert.Equal("error", reply.GetProperty("type").GetString());
        var data = reply.GetProperty("data");
        Assert.Equal("invalid_argument", data.GetProperty("code").GetString());
        Assert.Contains("since_seq is not allowed with a pattern channel", data.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueSubscribe_BrokenPattern_ErrorNamesChannelAndRule()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var reply = await socket.RequestAsync("queue_subscribe", "s1", new { channel = "app*" });

        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Contains("'*' only as a whole token", reply.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
