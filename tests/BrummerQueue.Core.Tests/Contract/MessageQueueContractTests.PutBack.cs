namespace BrummerQueue.Core.Tests.Contract;

/// <summary>SPEC.md §1 "Reads never lose": what a consuming receive took and could not hand over goes back.</summary>
public abstract partial class MessageQueueContractTests
{
    [Fact]
    public async Task PutBack_ChannelTake_ReturnsToTheHeadInOrderBeforeNewerMessages()
    {
        var queue = NewQueue();
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Limit = 3 }, Ct);
        Assert.Equal(3, queue.GetStats().MessagesConsumed);
        Send(queue, "c");

        Assert.Equal(new PutBackResult(3, 0, 0), queue.PutBack(taken));

        var stats = queue.GetStats();
        Assert.Equal(0, stats.MessagesConsumed);
        Assert.Equal(6, stats.TotalMessages);
        Assert.Equal(new ChannelStats(EpochOf(queue, "c"), 6, 0, 6, 0, 0, 0), stats.Channels["c"]);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], Seqs(Take(queue, "c")));
        Assert.Equal(6, queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public async Task PutBack_Peek_ChangesNothing()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var peeked = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Peek = true }, Ct);
        Assert.Null(peeked.Source);
        Assert.Equal(PutBackResult.None, queue.PutBack(peeked));
        Assert.Equal([1L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public async Task PutBack_ExpiredMeanwhile_CountsThemAsExpiredWithoutResurrecting()
    {
        var queue = NewQueue();
        Send(queue, "c", ttl: 1);
        Send(queue, "c", ttl: 60);
        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c" }, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(new PutBackResult(1, 1, 0), queue.PutBack(taken));

        Assert.Equal(new ChannelStats(EpochOf(queue, "c"), 1, 0, 2, 0, 1, 0), queue.GetStats().Channels["c"]);
        Assert.Equal([2L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public async Task PutBack_BacklogFilledMeanwhile_DropsTheReturnedOldestFirst()
    {
        var queue = NewQueue(new QueueOptions { ChannelCapacity = 4 });
        for (var i = 0; i < 4; i++)
        {
            Send(queue, "c");
        }

        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Limit = 3 }, Ct);
        Send(queue, "c");
        Send(queue, "c");

        Assert.Equal(new PutBackResult(1, 0, 2), queue.PutBack(taken));

        Assert.Equal(new ChannelStats(EpochOf(queue, "c"), 4, 0, 6, 0, 0, 2), queue.GetStats().Channels["c"]);
        Assert.Equal([3L, 4L, 5L, 6L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public async Task PutBack_ChannelRemovedByCleanupMeanwhile_RecreatesItWithTheMessages()
    {
        var queue = NewQueue();
        Send(queue, "c", "1");
        Send(queue, "c", "2");
        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c" }, Ct);
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        Assert.Empty(queue.ListChannels());

        Assert.Equal(new PutBackResult(2, 0, 0), queue.PutBack(taken));

        Assert.Equal(2, Assert.Single(queue.ListChannels()).LastSeq);
        Assert.Equal(3, Send(queue, "c", "3").Seq);
        var stats = queue.GetStats();
        Assert.Equal(3, stats.MessagesSent);
        Assert.Equal(0, stats.MessagesConsumed);
        Assert.Equal(new ChannelStats(EpochOf(queue, "c"), 3, 0, 3, 0, 0, 0), stats.Channels["c"]);
        Assert.Equal(["1", "2", "3"], Take(queue, "c").Select(m => m.Payload.ToString()));
        Assert.Equal(3, queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public async Task PutBack_BlockingReceiveWaiting_WakesItWithTheMessages()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true }, Ct);
        var waiting = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = 10 }, Ct).AsTask();
        Assert.False(waiting.IsCompleted);

        Assert.Equal(new PutBackResult(1, 0, 0), queue.PutBack(taken));

        var received = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([1L], Seqs(received.Messages));
        Assert.Equal(1, queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public async Task PutBack_SubscriptionRead_RestoresMessagesAndDroppedCountForTheNextRead()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c", new SubscribeOptions { BufferSize = 2 });
        for (var i = 0; i < 4; i++)
        {
            Send(queue, "c");
        }

        var read = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Limit = 1 }, Ct);
        Assert.Equal([3L], Seqs(read.Messages));
        Assert.Equal(2, read.Dropped);

        Assert.Equal(new PutBackResult(1, 0, 0), queue.PutBack(read));

        var again = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id }, Ct);
        Assert.Equal([3L, 4L], Seqs(again.Messages));
        Assert.Equal(2, again.Dropped);
        Assert.Equal(4, queue.GetStats().Channels["c"].Messages);
    }

    [Fact]
    public async Task PutBack_SubscriptionBufferFilledMeanwhile_DropsTheReturnedOldestFirst()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c", new SubscribeOptions { BufferSize = 2 });
        Send(queue, "c");
        Send(queue, "c");
        var read = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id }, Ct);
        Send(queue, "c");

        Assert.Equal(new PutBackResult(1, 0, 1), queue.PutBack(read));

        var again = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id }, Ct);
        Assert.Equal([2L, 3L], Seqs(again.Messages));
        Assert.Equal(1, again.Dropped);
    }

    [Fact]
    public async Task PutBack_SubscriptionClosedMeanwhile_TakesNothingBack()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        Send(queue, "c");
        var read = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id }, Ct);
        Assert.True(queue.Unsubscribe(subscription.Id));

        Assert.Equal(new PutBackResult(0, 0, 1), queue.PutBack(read));
        Assert.Equal([1L], Seqs(Take(queue, "c")));
    }
}
