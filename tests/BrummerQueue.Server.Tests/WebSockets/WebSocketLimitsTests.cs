using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Mcp;
using BrummerQueue.Server.WebSockets;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>Limits of the WebSocket endpoint, over real loopback sockets.</summary>
public sealed class WebSocketLimitsTests
{
    [Fact]
    public async Task Frame_OverSizeLimit_ErrorThenClose1009()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MaxFrameBytes"] = "1024" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        await socket.SendAsync(new { type = "queue_message", id = "big", data = new { channel = "c", payload = new string('x', 4000) } });
        var error = await socket.ReceiveAsync("error");
        var (status, _) = await socket.ReceiveCloseAsync();

        Assert.Equal("message_too_large", error.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.Equal(0, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task Frame_AtSizeLimit_IsAccepted()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MaxFrameBytes"] = "1024" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;
        var frame = """{"type":"queue_message","id":"fits","data":{"channel":"c","payload":"PAYLOAD"}}""".Replace("PAYLOAD", new string('x', 900), StringComparison.Ordinal);
        frame += new string(' ', 1024 - frame.Length);

        await socket.SendAsync(frame);

        Assert.Equal("ack", (await socket.ReceiveAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Frames_OverRateLimit_Close1008()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:MaxFramesPerSecond"] = "5" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        for (var i = 0; i < 20; i++)
        {
            await socket.SendAsync(new { type = "ping" });
        }

        var (status, reason) = await socket.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("rate limit exceeded", reason);
    }

    [Fact]
    public async Task Idle_NoFramesAndNoSubscriptions_ClosedByServer()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:IdleTimeoutSeconds"] = "1" });
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var (status, reason) = await socket.ReceiveCloseAsync();

        Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
        Assert.Equal("idle timeout", reason);
    }

    [Fact]
    public async Task Shutdown_OpenSocket_Closed1001()
    {
        var host = await TestServerHost.StartOnLoopbackAsync();
        var (socket, _) = await TestSocket.ConnectAsync(host);
        await using var __ = socket;

        var stopping = host.DisposeAsync().AsTask();
        var (status, _) = await socket.ReceiveCloseAsync();
        await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
        await stopping.WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
    }

    [Fact]
    public async Task SlowConsumer_FullSendQueueButRoomInItsBuffer_LosesNothingAndNeverStallsSendersOrOthers()
    {
        // The socket's send queue (16) is far smaller than the subscription's buffer: the socket holds the pump back.
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:SocketSendQueue"] = "16" });
        var (slow, _) = await TestSocket.ConnectAsync(host);
        await using var __ = slow;
        var (other, _) = await TestSocket.ConnectAsync(host);
        await using var ___ = other;
        await slow.RequestAsync("queue_subscribe", "s", new { channel = "firehose", buffer_size = 5000 });

        // Far more than the socket's queue and the kernel's buffers hold, while the slow client reads nothing.
        const int Count = 4000;
        SendBig(host, Count);

        // Another socket is served while the slow one is stuck.
        Assert.Equal("pong", (await other.RequestAsync("ping", "p")).GetProperty("type").GetString());

        var (received, dropped) = await ReadPushesAsync(slow, Count);
        Assert.Equal(0, dropped);
        Assert.Equal(Count, received);
        Assert.Equal(Count, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task SlowConsumer_ItsBufferOverflows_LosesOnlyTheOverflowCountedOnce()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:SocketSendQueue"] = "16" });
        var (slow, _) = await TestSocket.ConnectAsync(host);
        await using var __ = slow;
        const int BufferSize = 200;
        await slow.RequestAsync("queue_subscribe", "s", new { channel = "firehose", buffer_size = BufferSize });

        const int Count = 4000;
        SendBig(host, Count);

        // Every message is either pushed or counted once as dropped, in seq order; the subscription's buffer
        // (and what the socket already held) was delivered, so at least buffer_size arrive.
        var (received, dropped) = await ReadPushesAsync(slow, Count);
        Assert.True(dropped > 0, "the buffer should have overflowed");
        Assert.Equal(Count, received + dropped);
        Assert.True(received >= BufferSize, $"received {received}, fewer than the buffer's {BufferSize}");
    }

    private static void SendBig(TestServerHost host, int count)
    {
        var payload = JsonPayload.Parse(JsonSerializer.Serialize(new string('x', 16 * 1024)));
        for (var i = 0; i < count; i++)
        {
            host.Queue.Send("firehose", new MessageDraft(Payload: payload, TtlSeconds: 0));
        }
    }

    /// <summary>Reads pushes until seq <paramref name="lastSeq"/>, checking seq order against the dropped counts.</summary>
    private static async Task<(int Received, long Dropped)> ReadPushesAsync(TestSocket socket, long lastSeq)
    {
        long previousSeq = 0;
        long droppedTotal = 0;
        var received = 0;
        while (previousSeq < lastSeq)
        {
            var data = (await socket.ReceiveAsync("queue_message")).GetProperty("data");
            var seq = data.GetProperty("message").GetProperty("seq").GetInt64();
            var dropped = data.TryGetProperty("dropped", out var d) ? d.GetInt64() : 0;
            Assert.Equal(previousSeq + 1 + dropped, seq);
            previousSeq = seq;
            droppedTotal += dropped;
            received++;
        }

        return (received, droppedTotal);
    }

    [Fact]
    public async Task KeepAlive_PeerNeverAnswersPings_AbortedWithinIntervalPlusTimeout()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:KeepAliveSeconds"] = "1", ["Brummerq:IdleTimeoutSeconds"] = "0" });
        var (polite, _) = await TestSocket.ConnectAsync(host);
        await using var __ = polite;

        // A pending receive answers the server's pings (as a browser does); the raw client never does.
        var politeNext = polite.ReceiveAsync();
        using var silent = await RawWebSocketClient.ConnectAsync(host.BaseAddress);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await silent.ReadUntilServerEndsAsync(TimeSpan.FromSeconds(8));
        var cutAfter = clock.Elapsed;
        await polite.SendAsync(new { type = "ping", id = "still-here" });
        var pong = await politeNext;

        Assert.True(cutAfter < TimeSpan.FromSeconds(4), $"cut after {cutAfter}; the limit is 1 s of interval plus 1 s for the pong");
        Assert.Equal("still-here", pong.GetProperty("id").GetString());

        // The server forgets the aborted socket just after the client saw its end.
        var tracker = host.Services.GetRequiredService<WebSocketConnectionTracker>();
        await McpToolsTests.WaitUntilAsync(() => tracker.Count == 1);
    }

    [Fact]
    public async Task NeverReads_SubscribedDuringFlood_ServerEndsItAndItsSubscription()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new()
        {
            ["Brummerq:KeepAliveSeconds"] = "1",
            ["Brummerq:IdleTimeoutSeconds"] = "0",
            ["Brummerq:SocketSendQueue"] = "16",
        });
        using var stuck = await RawWebSocketClient.ConnectAsync(host.BaseAddress, receiveBufferBytes: 4096);
        await stuck.SendTextAsync("""{"type":"queue_subscribe","id":"s","data":{"channel":"flood"}}""");
        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().TotalSubscriptions == 1);

        // Far more than the socket buffers hold; the client reads none of it.
        var payload = JsonPayload.Parse(JsonSerializer.Serialize(new string('x', 64 * 1024)));
        for (var i = 0; i < 400; i++)
        {
            host.Queue.Send("flood", new MessageDraft(Payload: payload, TtlSeconds: 0));
        }

        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().TotalSubscriptions == 0);

        // The connection ends its subscriptions first and leaves the tracker just after.
        var tracker = host.Services.GetRequiredService<WebSocketConnectionTracker>();
        await McpToolsTests.WaitUntilAsync(() => tracker.Count == 0);
    }
}
