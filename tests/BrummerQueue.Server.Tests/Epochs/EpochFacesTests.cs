using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Epochs;

/// <summary>
/// SPEC.md §1 "Epoch" and "Resume" on every face: MCP <c>queue_subscribe</c>, <c>queue_list_channels</c>,
/// <c>queue_stats</c> and resources; the WebSocket <c>subscribed</c> reply; the HTTP API's lists. The scenario is the
/// issue's: a channel is drained, cleanup removes it, new messages start again at seq 1, and a client resumes.
/// </summary>
public sealed class EpochFacesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task QueueSubscribe_ResumeInTheSameEpoch_ReturnsEpochRecoveredAndTheExactReplay()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var first = await client.CallOkAsync("queue_subscribe", """{"channel":"s"}""");
        Assert.False(first.TryGetProperty("recovered", out _));
        var epoch = first.GetProperty("epoch").GetString();
        for (var i = 1; i <= 3; i++)
        {
            await client.CallOkAsync("queue_send", $$"""{"channel":"s","payload":{{i}}}""");
        }

        var resumed = await client.CallOkAsync("queue_subscribe", $$"""{"channel":"s","since_seq":1,"epoch":"{{epoch}}"}""");

        Assert.Equal(epoch, resumed.GetProperty("epoch").GetString());
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        var replayed = await ReadPayloadsAsync(client, resumed);
        Assert.Equal([2, 3], replayed);
    }

    [Fact]
    public async Task QueueSubscribe_ResumeAfterTheChannelWasRemoved_NewEpochNotRecoveredAndTheNewBacklog()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var (oldEpoch, _) = await RecreateAsync(host, client);

        var withEpoch = await client.CallOkAsync("queue_subscribe", $$"""{"channel":"r","since_seq":5,"epoch":"{{oldEpoch}}"}""");
        var withoutEpoch = await client.CallOkAsync("queue_subscribe", """{"channel":"r","since_seq":5}""");

        foreach (var reply in new[] { withEpoch, withoutEpoch })
        {
            Assert.NotEqual(oldEpoch, reply.GetProperty("epoch").GetString());
            Assert.False(reply.GetProperty("recovered").GetBoolean());
            var replayed = await ReadPayloadsAsync(client, reply);
            Assert.Equal([101, 102], replayed);
        }
    }

    [Theory]
    [InlineData("""{"channel":"c","epoch":"abc"}""", "epoch needs since_seq")]
    [InlineData("""{"channel":"c","since_seq":1,"epoch":"ABC"}""", "epoch must be 1-32 characters from a-z 0-9")]
    [InlineData("""{"channel":"c","since_seq":1,"epoch":7}""", "epoch must be a string")]
    public async Task QueueSubscribe_BadEpoch_IsErrorNamingEpochAndTheRule(string arguments, string expected)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var error = await client.CallErrorAsync("queue_subscribe", arguments);

        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Empty(host.Queue.ListChannels());
    }

    [Fact]
    public async Task ListChannelsStatsAndResources_CarryTheEpochOnMcpAndHttp()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var epoch = (await client.CallOkAsync("queue_subscribe", """{"channel":"e"}""")).GetProperty("epoch").GetString();
        Assert.True(ChannelEpoch.IsValid(epoch));

        var listed = Assert.Single((await client.CallOkAsync("queue_list_channels")).GetProperty("channels").EnumerateArray());
        var stats = await client.CallOkAsync("queue_stats");
        var read = await client.ReadResourceAsync("brummerq://channels/e", cancellationToken: Ct);
        using var resource = JsonDocument.Parse(Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text);
        var resources = await client.ListResourcesAsync(cancellationToken: Ct);
        using var http = host.CreateHttpClient();
        using var httpChannels = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/channels", UriKind.Relative), Ct));
        using var httpStats = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/stats", UriKind.Relative), Ct));

        Assert.Equal(epoch, listed.GetProperty("epoch").GetString());
        Assert.Equal(epoch, stats.GetProperty("channels").GetProperty("e").GetProperty("epoch").GetString());
        Assert.Equal(epoch, resource.RootElement.GetProperty("epoch").GetString());
        Assert.Contains($"epoch {epoch}", Assert.Single(resources, r => r.Name == "e").Description, StringComparison.Ordinal);
        Assert.Equal(epoch, Assert.Single(httpChannels.RootElement.GetProperty("channels").EnumerateArray()).GetProperty("epoch").GetString());
        Assert.Equal(epoch, httpStats.RootElement.GetProperty("channels").GetProperty("e").GetProperty("epoch").GetString());
    }

    [Fact]
    public async Task WebSocketSubscribe_ResumeAfterTheChannelWasRemoved_SubscribedSaysNewEpochNotRecoveredThenTheNewBacklog()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var (oldEpoch, newEpoch) = await RecreateAsync(host, client);
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _socket = socket;

        var subscribed = await socket.RequestAsync("queue_subscribe", "s1", new { channel = "r", since_seq = 5, epoch = oldEpoch });

        var data = subscribed.GetProperty("data");
        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());
        Assert.Equal(newEpoch, data.GetProperty("epoch").GetString());
        Assert.False(data.GetProperty("recovered").GetBoolean());
        var pushes = new[] { await socket.ReceiveAsync("queue_message"), await socket.ReceiveAsync("queue_message") };
        Assert.Equal([1L, 2L], pushes.Select(p => p.GetProperty("data").GetProperty("message").GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task WebSocketSubscribe_SameEpoch_SubscribedSaysRecoveredAndWithoutSinceSeqOmitsIt()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _socket = socket;
        var plain = (await socket.RequestAsync("queue_subscribe", "s1", new { channel = "w" })).GetProperty("data");
        var epoch = plain.GetProperty("epoch").GetString();

        var resumed = (await socket.RequestAsync("queue_subscribe", "s2", new { channel = "w", since_seq = 0, epoch })).GetProperty("data");

        Assert.False(plain.TryGetProperty("recovered", out _));
        Assert.Equal(epoch, resumed.GetProperty("epoch").GetString());
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
    }

    [Theory]
    [InlineData("""{"channel":"c","epoch":"abc"}""", "epoch needs since_seq")]
    [InlineData("""{"channel":"c","since_seq":1,"epoch":"no-dash"}""", "epoch must be 1-32 characters from a-z 0-9")]
    [InlineData("""{"channel":"c","since_seq":1,"epoch":false}""", "epoch must be a string")]
    public async Task WebSocketSubscribe_BadEpoch_ErrorFrameNamingEpoch(string data, string expected)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var _socket = socket;

        await socket.SendAsync($$"""{"type":"queue_subscribe","id":"b1","data":{{data}}}""");
        var error = await socket.ReceiveAsync("error");

        Assert.Equal("b1", error.GetProperty("id").GetString());
        Assert.Equal(QueueErrorCodes.InvalidArgument, error.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal("epoch", error.GetProperty("data").GetProperty("field").GetString());
        Assert.Contains(expected, error.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(host.Queue.ListChannels());
    }

    /// <summary>
    /// Channel <c>r</c> gets five messages (epoch A), is drained and removed by cleanup, then gets payloads 101 and 102
    /// (epoch B, seqs 1 and 2). Returns (A, B).
    /// </summary>
    private static async Task<(string Old, string New)> RecreateAsync(TestServerHost host, McpClient client)
    {
        for (var i = 1; i <= 5; i++)
        {
            await client.CallOkAsync("queue_send", $$"""{"channel":"r","payload":{{i}}}""");
        }

        var old = Assert.Single(host.Queue.ListChannels()).Epoch;
        Assert.Equal(5, (await client.CallOkAsync("queue_receive", """{"channel":"r","limit":10}""")).GetProperty("count").GetInt32());
        Assert.Equal(1, host.Queue.Sweep().ChannelsRemoved);
        await client.CallOkAsync("queue_send", """{"channel":"r","payload":101}""");
        await client.CallOkAsync("queue_send", """{"channel":"r","payload":102}""");
        var current = Assert.Single(host.Queue.ListChannels()).Epoch;
        Assert.NotEqual(old, current);
        return (old, current);
    }

    private static async Task<int[]> ReadPayloadsAsync(McpClient client, JsonElement subscribed)
    {
        var id = subscribed.GetProperty("subscription_id").GetString();
        var read = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{id}}","limit":100}""");
        return [.. read.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32())];
    }
}
