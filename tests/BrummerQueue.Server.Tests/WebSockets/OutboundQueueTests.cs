using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>The per-socket outbound queue bounds what a client that does not read can make the server hold.</summary>
public sealed class OutboundQueueTests
{
    [Fact]
    public async Task WaitForReplyBytes_QueuedRepliesAtBudget_WaitsUntilTheWriterTakesOne()
    {
        using var queue = new OutboundQueue(pushCapacity: 4, replyCapacity: 100, replyByteBudget: 1000);
        await ReplyAsync(queue, 600);
        await ReplyAsync(queue, 600);

        var waiting = queue.WaitForReplyBytesAsync(TestContext.Current.CancellationToken);
        var stillWaiting = !waiting.IsCompleted;
        var taken = await queue.DequeueAsync(TestContext.Current.CancellationToken);
        await waiting.WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);

        Assert.True(stillWaiting, "the reader must wait while 1,200 bytes of replies exceed the 1,000-byte budget");
        Assert.Equal(600, taken!.Value.Reply!.Length);
        Assert.Equal(600, queue.ReplyBytes);
    }

    [Fact]
    public async Task WaitForReplyBytes_QueueCompletedWhileWaiting_Returns()
    {
        using var queue = new OutboundQueue(pushCapacity: 4, replyCapacity: 100, replyByteBudget: 10);
        await ReplyAsync(queue, 20);
        var waiting = queue.WaitForReplyBytesAsync(TestContext.Current.CancellationToken);

        queue.Complete();

        await waiting.WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(20, queue.ReplyBytes);
    }

    /// <summary>Queues a reply as the reader does: bytes under the budget, then a reply slot.</summary>
    private static async Task ReplyAsync(OutboundQueue queue, int bytes)
    {
        await queue.WaitForReplyBytesAsync(TestContext.Current.CancellationToken);
        await queue.WaitForReplySpaceAsync(TestContext.Current.CancellationToken);
        Assert.True(queue.TryEnqueueReply(new byte[bytes]));
    }
}
