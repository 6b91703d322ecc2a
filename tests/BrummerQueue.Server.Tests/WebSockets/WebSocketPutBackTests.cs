using System.Net.WebSockets;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>SPEC.md §1 "Reads never lose" on the WebSocket: a <c>messages</c> reply that cannot be sent puts back what it took.</summary>
public sealed class WebSocketPutBackTests
{
    [Fact]
    public async Task QueueReceive_ReplyWriteFails_MessagesStayReceivableInOrderAndConsumedCountsOnlyDelivered()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var failures = 0;
        host.Services.GetRequiredService<DeliveryFaults>().FailReply = face => face == DeliveryFaults.WebSocket && Interlocked.Exchange(ref failures, 1) == 0;
        for (var i = 1; i <= 3; i++)
        {
            host.Queue.Send("ws.lost", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        // The server takes the three messages, then the socket breaks as it writes the reply.
        var (broken, _) = await TestSocket.ConnectAsync(host);
        await broken.SendAsync(new { type = "queue_receive", id = "r1", data = new { channel = "ws.lost" } });
        await AssertSocketEndsAsync(broken);

        // Another client's blocking receive gets them (woken by the put-back if it comes first), oldest first.
        var (other, _) = await TestSocket.ConnectAsync(host);
        await using (other)
        {
            var reply = await other.RequestAsync("queue_receive", "r2", new { channel = "ws.lost", blocking = true, timeout = 10 });
            var data = reply.GetProperty("data");
            Assert.Equal([1, 2, 3], data.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
        }

        Assert.Equal(1, Volatile.Read(ref failures));
        var stats = host.Queue.GetStats();
        Assert.Equal(3, stats.MessagesConsumed);
        Assert.Equal(new ChannelStats(stats.Channels["ws.lost"].Epoch, 0, 0, 3, 3, 0, 0), stats.Channels["ws.lost"]);
    }

    [Fact]
    public async Task QueueReceive_ClientClosesWhileBlockingReceiveWaits_MessageSentAfterwardsIsNotLost()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        var (leaving, _) = await TestSocket.ConnectAsync(host);
        await leaving.SendAsync(new { type = "queue_receive", id = "w", data = new { channel = "ws.left", blocking = true, timeout = 60 } });
        leaving.Socket.Abort();
        await leaving.DisposeAsync();

        // Whether the waiting receive ends before the message arrives, or takes it and then finds the socket gone,
        // the message must stay for the next receiver.
        host.Queue.Send("ws.left", new MessageDraft(Payload: JsonPayload.Parse("\"after\"")));
        var (next, _) = await TestSocket.ConnectAsync(host);
        await using (next)
        {
            var reply = await next.RequestAsync("queue_receive", "n", new { channel = "ws.left", blocking = true, timeout = 10 });
            Assert.Equal("after", Assert.Single(reply.GetProperty("data").GetProperty("messages").EnumerateArray()).GetProperty("payload").GetString());
        }

        Assert.Equal(1, host.Queue.GetStats().MessagesConsumed);
    }

    private static async Task AssertSocketEndsAsync(TestSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestSocket.Timeout);
        try
        {
            while (true)
            {
                var result = await socket.Socket.ReceiveAsync(buffer, timeout.Token);
                Assert.False(
                    result.MessageType == WebSocketMessageType.Text && JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.GetProperty("type").GetString() == "messages",
                    "the reply whose write failed must not arrive");
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            // The server aborted the socket (a real socket reports a WebSocketException, the in-process one an IOException).
        }
        finally
        {
            socket.Socket.Dispose();
        }
    }
}
