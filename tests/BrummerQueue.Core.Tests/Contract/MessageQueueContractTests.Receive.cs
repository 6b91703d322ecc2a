namespace BrummerQueue.Core.Tests.Contract;

public abstract partial class MessageQueueContractTests
{
    [Fact]
    public void Receive_ConsumesOldestFirstUpToLimit()
    {
        var queue = NewQueue();
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        Assert.Equal([1L, 2L], Seqs(Take(queue, "c", 2)));
        Assert.Equal([3L, 4L, 5L], Seqs(Take(queue, "c", 10)));
        Assert.Empty(Take(queue, "c"));
        Assert.Equal(5, queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public void Receive_Peek_ReadsWithoutRemoving()
    {
        var queue = NewQueue();
        Send(queue, "c");
        Send(queue, "c");
        Assert.Equal([1L], Seqs(Take(queue, "c", 1, peek: true)));
        Assert.Equal([1L, 2L], Seqs(Take(queue, "c", 10, peek: true)));
        Assert.Equal([1L, 2L], Seqs(Take(queue, "c")));
        Assert.Equal(0, queue.GetStats().TotalMessages);
    }

    [Fact]
    public void PeekNewest_ReturnsTheNewestUnexpiredOldestFirstWithoutRemoving()
    {
        var queue = NewQueue();
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c", ttl: i == 4 ? 1 : 60);
        }

        Time.Advance(TimeSpan.FromSeconds(1));
        var newest = new List<QueueMessage>();
        Assert.Equal(2, queue.PeekNewest("c", 2, newest));
        Assert.Equal([3L, 4L], Seqs(newest));
        Assert.Equal(4, queue.ListChannels()[0].Messages);
        Assert.Equal(0, queue.PeekNewest("nobody", 2, newest));
        AssertRefused(QueueErrorCodes.InvalidArgument, "limit", "limit must be an integer between 1 and 1000", () => queue.PeekNewest("c", 0, newest));
    }

    [Fact]
    public void Receive_UnknownChannel_IsEmptyAndCreatesNothing()
    {
        var queue = NewQueue();
        Assert.Empty(Take(queue, "nobody"));
        Assert.Empty(queue.ListChannels());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void Receive_LimitOutOfRange_IsRefused(int limit)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "limit", "limit must be an integer between 1 and 1000", () => queue.Receive("c", limit, false, new List<QueueMessage>()));
    }

    [Fact]
    public void Receive_InvalidChannelName_IsRefused()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "1-128 characters", () => Take(queue, "bad name"));
    }

    [Fact]
    public async Task ReceiveAsync_NonBlocking_ReturnsWhatIsThere()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var result = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c" }, Ct);
        Assert.Equal([1L], Seqs(result.Messages));
        Assert.Null(result.Dropped);
        Assert.Empty((await queue.ReceiveAsync(new ReceiveRequest { Channel = "c" }, Ct)).Messages);
    }

    [Fact]
    public async Task ReceiveAsync_NeitherOrBothSources_IsRefused()
    {
        var queue = NewQueue();
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "channel", "exactly one of channel and subscription_id", async () => await queue.ReceiveAsync(new ReceiveRequest(), Ct));
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "channel", "exactly one of channel and subscription_id", async () => await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", SubscriptionId = "x" }, Ct));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(300.5)]
    [InlineData(double.NaN)]
    public async Task ReceiveAsync_TimeoutOutOfRange_IsRefused(double timeout)
    {
        var queue = NewQueue();
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "timeout", "timeout must be a number of seconds between 0 and 300", async () => await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = timeout }, Ct));
    }

    [Fact]
    public async Task ReceiveAsync_BlockingWithNothing_WaitsUntilASend()
    {
        var queue = NewQueue();
        var pending = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, Limit = 5 }, Ct).AsTask();
        Assert.False(pending.IsCompleted);
        Send(queue, "c", "\"hello\"");
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("\"hello\"", Assert.Single(result.Messages).Payload.ToString());
        Assert.Empty(Take(queue, "c"));
    }

    [Fact]
    public async Task ReceiveAsync_BlockingTimesOut_ReturnsEmptyNotError()
    {
        var queue = NewQueue();
        var pending = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = 5 }, Ct).AsTask();
        Time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(pending.IsCompleted);
        Time.Advance(TimeSpan.FromSeconds(1));
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Empty(result.Messages);
    }

    [Fact]
    public async Task ReceiveAsync_BlockingCancelled_LeavesTheMessageForTheNextReceiver()
    {
        var queue = NewQueue();
        using var cts = new CancellationTokenSource();
        var pending = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true }, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Send(queue, "c");
        Assert.Equal([1L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public async Task ReceiveAsync_TwoBlockingReceivers_OneMessage_ExactlyOneGetsIt()
    {
        var queue = NewQueue();
        var first = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = 10 }, Ct).AsTask();
        var second = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = 10 }, Ct).AsTask();
        Send(queue, "c");
        var winner = await Task.WhenAny(first, second).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Single((await winner).Messages);
        var loser = winner == first ? second : first;
        Assert.False(loser.IsCompleted);
        Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty((await loser.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Messages);
    }

    [Fact]
    public async Task ReceiveAsync_BlockingPeek_WaitsThenLeavesTheMessage()
    {
        var queue = NewQueue();
        var pending = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, Peek = true }, Ct).AsTask();
        Send(queue, "c");
        Assert.Single((await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Messages);
        Assert.Single(Take(queue, "c"));
    }

    [Fact]
    public async Task ReceiveAsync_WaitingOnAnUnknownChannel_DoesNotCreateAVisibleChannel()
    {
        var queue = NewQueue();
        var pending = queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = 300 }, Ct).AsTask();
        queue.Sweep();
        Assert.Empty(queue.ListChannels());
        Assert.Equal(0, queue.GetStats().TotalChannels);
        Assert.Equal(1, queue.GetStats().WaitingReceivers);
        Send(queue, "c");
        Assert.Single((await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Messages);
        Assert.Equal(new ChannelInfo("c", EpochOf(queue, "c"), 0, 0, 1), Assert.Single(queue.ListChannels()));
    }
}
