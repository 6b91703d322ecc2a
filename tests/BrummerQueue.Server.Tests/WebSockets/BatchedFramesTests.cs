using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary><c>?batch=1</c>: every server frame is a JSON array of messages, several when several are queued.</summary>
public sealed class BatchedFramesTests
{
    [Fact]
    public async Task BatchedSocket_SlowReader_EveryFrameAnArrayPushesInSeqOrderSeveralPerFrame()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var socket = await TestSocket.OpenAsync(host, "?batch=1");
        await using var _ = socket;
        Assert.Equal("connected", Single(await socket.ReceiveTextAsync()).GetProperty("type").GetString());
        await socket.SendAsync(new { type = "queue_subscribe", id = "s", data = new { channel = "firehose", buffer_size = 1000 } });
        var subscribed = Single(await socket.ReceiveTextAsync());
        Assert.Equal("s", subscribed.GetProperty("id").GetString());

        // More than the kernel's socket buffers hold while the client reads nothing, so pushes queue up.
        const int Count = 400;
        var payload = JsonPayload.Parse(JsonSerializer.Serialize(new string('x', 16 * 1024)));
        for (var i = 0; i < Count; i++)
        {
            host.Queue.Send("firehose", new MessageDraft(Payload: payload, TtlSeconds: 0));
        }

        var frames = 0;
        long seq = 0;
        while (seq < Count)
        {
            using var frame = JsonDocument.Parse(await socket.ReceiveTextAsync());
            Assert.Equal(JsonValueKind.Array, frame.RootElement.ValueKind);
            frames++;
            foreach (var push in frame.RootElement.EnumerateArray())
            {
                Assert.Equal("queue_message", push.GetProperty("type").GetString());
                Assert.Equal(++seq, push.GetProperty("data").GetProperty("message").GetProperty("seq").GetInt64());
            }
        }

        Assert.True(frames < Count, $"{Count} pushes came in {frames} frames: none was batched");
    }

    [Fact]
    public async Task BatchedSocket_RequestsAndErrors_RepliesKeepTheirIdsInsideArrays()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var socket = await TestSocket.OpenAsync(host, "?batch=1");
        await using var _ = socket;
        Single(await socket.ReceiveTextAsync());

        await socket.SendAsync(new { type = "queue_message", id = "a", data = new { channel = "c", payload = 1 } });
        await socket.SendAsync("not json");
        await socket.SendAsync(new { type = "ping", id = "p" });

        var replies = new List<JsonElement>();
        while (replies.Count < 3)
        {
            using var frame = JsonDocument.Parse(await socket.ReceiveTextAsync());
            replies.AddRange(frame.RootElement.EnumerateArray().Select(e => e.Clone()));
        }

        Assert.Equal(["ack", "error", "pong"], replies.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal("a", replies[0].GetProperty("id").GetString());
        Assert.Equal("p", replies[2].GetProperty("id").GetString());
        Assert.Equal(1, host.Queue.GetStats().MessagesSent);
    }

    private static JsonElement Single(string frameText)
    {
        using var frame = JsonDocument.Parse(frameText);
        Assert.Equal(JsonValueKind.Array, frame.RootElement.ValueKind);
        return Assert.Single(frame.RootElement.EnumerateArray()).Clone();
    }
}
