namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>Several sockets sending and subscribing at once, over real loopback sockets.</summary>
public sealed class WebSocketConcurrencyTests
{
    [Fact]
    public async Task ManySenders_TwoSubscribers_EachSeesEveryAckedMessageOnceInSeqOrder()
    {
        const int Senders = 4;
        const int PerSender = 100;
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var subscribers = new List<TestSocket>();
        for (var i = 0; i < 2; i++)
        {
            var (socket, _) = await TestSocket.ConnectAsync(host);
            subscribers.Add(socket);
            await socket.RequestAsync("queue_subscribe", "s", new { channel = "shared", buffer_size = 1000 });
        }

        var sends = Enumerable.Range(0, Senders).Select(async sender =>
        {
            var (socket, _) = await TestSocket.ConnectAsync(host);
            await using var _ = socket;
            for (var i = 0; i < PerSender; i++)
            {
                await socket.SendAsync(new { type = "queue_message", id = $"{sender}-{i}", data = new { channel = "shared", payload = new { sender, i } } });
            }

            var acked = new List<string>();
            long previousSeq = 0;
            for (var i = 0; i < PerSender; i++)
            {
                var ack = await socket.ReceiveAsync("ack");
                Assert.Equal($"{sender}-{i}", ack.GetProperty("id").GetString());
                var seq = ack.GetProperty("data").GetProperty("seq").GetInt64();
                Assert.True(seq > previousSeq, "one socket's sends are stored in the order sent");
                previousSeq = seq;
                acked.Add(ack.GetProperty("data").GetProperty("message_id").GetString()!);
            }

            return acked;
        }).ToList();
        var ackedIds = (await Task.WhenAll(sends)).SelectMany(ids => ids).ToHashSet();

        Assert.Equal(Senders * PerSender, ackedIds.Count);
        foreach (var subscriber in subscribers)
        {
            var seen = new HashSet<string>();
            for (var seq = 1; seq <= Senders * PerSender; seq++)
            {
                var data = (await subscriber.ReceiveAsync("queue_message")).GetProperty("data");
                var message = data.GetProperty("message");
                Assert.Equal(seq, message.GetProperty("seq").GetInt64());
                Assert.False(data.TryGetProperty("dropped", out _));
                Assert.True(seen.Add(message.GetProperty("id").GetString()!));
            }

            Assert.True(ackedIds.SetEquals(seen));
            await subscriber.DisposeAsync();
        }
    }
}
