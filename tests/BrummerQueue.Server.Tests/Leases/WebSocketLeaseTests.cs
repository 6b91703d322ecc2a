using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.Tests.WebSockets;

namespace BrummerQueue.Server.Tests.Leases;

/// <summary>Acknowledged receive over a real WebSocket: <c>queue_receive</c> with <c>ack_timeout</c>, <c>queue_ack</c> → <c>acked</c>, release on close.</summary>
public sealed class WebSocketLeaseTests
{
    [Fact]
    public async Task QueueReceive_WithAckTimeoutThenQueueAck_AnswersAckedAndRemovesIt()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        host.Queue.Send("jobs", new MessageDraft(Payload: JsonPayload.Parse("{\"n\":1}")));

        var leased = await socket.RequestAsync("queue_receive", "r1", new { channel = "jobs", ack_timeout = 30 });
        var id = leased.GetProperty("data").GetProperty("messages")[0].GetProperty("id").GetString();
        var hidden = await socket.RequestAsync("queue_receive", "r2", new { channel = "jobs" });
        var acked = await socket.RequestAsync("queue_ack", "a1", new { channel = "jobs", message_ids = new[] { id, "nope" } });

        Assert.Equal("messages", leased.GetProperty("type").GetString());
        Assert.Equal(0, hidden.GetProperty("data").GetProperty("count").GetInt32());
        Assert.Equal("acked", acked.GetProperty("type").GetString());
        Assert.Equal(1, acked.GetProperty("data").GetProperty("acked").GetInt32());
        Assert.Equal(["nope"], acked.GetProperty("data").GetProperty("not_leased").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new LeaseFigures(0, 1, 1, 0, 0), host.Queue.GetStats().Leases);
    }

    [Fact]
    public async Task SocketCloses_WithALease_ReleasesItAtOnceWithDeliveryCount()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        host.Queue.Send("jobs", new MessageDraft(Payload: JsonPayload.Parse("\"task\"")));
        var (crashing, _) = await TestSocket.ConnectAsync(host);
        await crashing.RequestAsync("queue_receive", "r1", new { channel = "jobs", ack_timeout = 3600 });

        await crashing.DisposeAsync();

        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().Leases.InFlight == 0);
        var (survivor, _) = await TestSocket.ConnectAsync(host);
        await using var __ = survivor;
        var again = await survivor.RequestAsync("queue_receive", "r2", new { channel = "jobs", ack_timeout = 60 });
        Assert.Equal(1, again.GetProperty("data").GetProperty("messages")[0].GetProperty("delivery_count").GetInt32());
    }

    [Theory]
    [InlineData("queue_receive", """{"channel":"jobs","ack_timeout":7200}""", "ack_timeout", "ack_timeout must be a number of seconds between 1 and 3600")]
    [InlineData("queue_ack", """{"channel":"jobs","message_ids":[1]}""", "message_ids", "message_ids must be a list of 1 to 1000 message ids")]
    [InlineData("queue_ack", """{"channel":"jobs"}""", "message_ids", "message_ids must be a list")]
    public async Task LeaseFrames_BadFields_ErrorNamesTheField(string type, string data, string field, string rule)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync($$"""{"type":"{{type}}","id":"x","data":{{data}}}""");
        var error = await socket.ReceiveAsync("error");

        Assert.Equal(field, error.GetProperty("data").GetProperty("field").GetString());
        Assert.Contains(rule, error.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
