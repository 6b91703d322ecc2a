namespace BrummerQueue.Core.Tests.Contract;

public abstract partial class MessageQueueContractTests
{
    private static List<QueueMessage> Read(Subscription subscription, int limit, out long dropped)
    {
        var list = new List<QueueMessage>();
        dropped = subscription.ReadBatch(limit, list);
        return list;
    }

    [Fact]
    public void Subscribe_Ids_AreUniqueUuidV7AndNotGuessableFromEachOther()
    {
        var queue = NewQueue();
        var ids = Enumerable.Range(0, 300).Select(_ => Guid.Parse(queue.Subscribe("c").Id)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(7, id.Version));

        // Consecutive ids of a counter differ in a few low bits; random ones in about half of the 74 random bits.
        static UInt128 RandomBits(Guid id)
        {
            var bytes = id.ToByteArray(bigEndian: true);
            var value = (UInt128)(((bytes[6] & 0x0F) << 8) | bytes[7]);
            value = (value << 6) | (uint)(bytes[8] & 0x3F);
            for (var i = 9; i < 16; i++)
            {
                value = (value << 8) | bytes[i];
            }

            return value;
        }

        var distances = ids.Zip(ids.Skip(1), (a, b) => UInt128.PopCount(RandomBits(a) ^ RandomBits(b)));
        Assert.True(distances.Average(d => (double)d) > 25, "subscription ids look sequential");
    }

    [Fact]
    public void Subscribe_GetsCopiesOfLaterMessagesOnly_BacklogUntouched()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var subscription = queue.Subscribe("c");
        Send(queue, "c");
        Send(queue, "c");
        Assert.Equal([2L, 3L], Seqs(Read(subscription, 10, out var dropped)));
        Assert.Equal(0, dropped);
        Assert.Equal([1L, 2L, 3L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public void Subscribe_Defaults_BufferOf100AndChannelCreated()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("fresh");
        Assert.Equal(100, subscription.BufferSize);
        Assert.Equal("fresh", subscription.Channel);
        Assert.False(string.IsNullOrEmpty(subscription.Id));
        Assert.Equal(new ChannelInfo("fresh", subscription.Epoch, 0, 1, 0), Assert.Single(queue.ListChannels()));
    }

    [Fact]
    public void Subscribe_FullBuffer_DropsOldestAndReportsCountOnNextReadOnce()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c", new SubscribeOptions { BufferSize = 2 });
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        Assert.Equal([4L, 5L], Seqs(Read(subscription, 10, out var dropped)));
        Assert.Equal(3, dropped);
        Send(queue, "c");
        Assert.Equal([6L], Seqs(Read(subscription, 10, out dropped)));
        Assert.Equal(0, dropped);
        Assert.Equal(0, queue.GetStats().MessagesDropped);
    }

    [Fact]
    public void Subscribe_FullBuffer_NeverBlocksTheSender()
    {
        var queue = NewQueue();
        queue.Subscribe("c", new SubscribeOptions { BufferSize = 1 });
        for (var i = 0; i < 1000; i++)
        {
            Send(queue, "c");
        }

        Assert.Equal(1000, queue.ListChannels()[0].LastSeq);
    }

    [Fact]
    public void Subscribe_SinceSeq_ReplaysRetainedBacklogAfterThatSeqFirst()
    {
        var queue = NewQueue();
        for (var i = 0; i < 4; i++)
        {
            Send(queue, "c");
        }

        Take(queue, "c", 1);
        var fromTwo = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 2 });
        var fromZero = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 0 });
        Send(queue, "c");
        Assert.Equal([3L, 4L, 5L], Seqs(Read(fromTwo, 10, out _)));
        Assert.Equal([2L, 3L, 4L, 5L], Seqs(Read(fromZero, 10, out _)));
    }

    [Fact]
    public void Subscribe_SinceSeqLargerThanBuffer_KeepsNewestAndCountsDropped()
    {
        var queue = NewQueue();
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        var subscription = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 0, BufferSize = 2 });
        Assert.Equal([4L, 5L], Seqs(Read(subscription, 10, out var dropped)));
        Assert.Equal(3, dropped);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public void Subscribe_BufferSizeOutOfRange_IsRefused(int size)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "buffer_size", "buffer_size must be an integer between 1 and 10000", () => queue.Subscribe("c", new SubscribeOptions { BufferSize = size }));
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public void Subscribe_NegativeSinceSeq_IsRefused()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "since_seq", "since_seq must be an integer of at least 0", () => queue.Subscribe("c", new SubscribeOptions { SinceSeq = -1 }));
    }

    [Fact]
    public void Subscribe_InvalidChannel_IsRefused()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "1-128 characters", () => queue.Subscribe("no spaces please"));
    }

    [Fact]
    public void Subscriptions_AreIndependentOfEachOther()
    {
        var queue = NewQueue();
        var a = queue.Subscribe("c");
        var b = queue.Subscribe("c", new SubscribeOptions { BufferSize = 1 });
        Send(queue, "c");
        Send(queue, "c");
        Assert.Equal([1L, 2L], Seqs(Read(a, 10, out _)));
        Assert.Equal([2L], Seqs(Read(b, 10, out var dropped)));
        Assert.Equal(1, dropped);
    }

    [Fact]
    public void Unsubscribe_StopsDeliveryAndUnknownIdIsFalse()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        Assert.True(queue.TryGetSubscription(subscription.Id, out var found));
        Assert.Same(subscription, found);
        Assert.True(queue.Unsubscribe(subscription.Id));
        Assert.True(subscription.IsClosed);
        Assert.Equal(0, queue.Send("c", default).DeliveredTo);
        Assert.False(queue.Unsubscribe(subscription.Id));
        Assert.False(queue.TryGetSubscription(subscription.Id, out _));
        Assert.False(queue.Unsubscribe("no-such-id"));
    }

    [Fact]
    public async Task ReceiveAsync_UnknownSubscription_IsNotFound()
    {
        var queue = NewQueue();
        await AssertRefusedAsync(QueueErrorCodes.NotFound, "subscription_id", "does not exist", async () => await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = "nope" }, Ct));
    }

    [Fact]
    public async Task ReceiveAsync_SubscriptionWithPeek_IsRefused()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "peek", "peek is only allowed with channel", async () => await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Peek = true }, Ct));
    }

    [Fact]
    public async Task ReceiveAsync_Subscription_ReportsDropped()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c", new SubscribeOptions { BufferSize = 1 });
        Send(queue, "c");
        Send(queue, "c");
        var result = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id }, Ct);
        Assert.Equal([2L], Seqs(result.Messages));
        Assert.Equal(1, result.Dropped);
    }

    [Fact]
    public async Task ReceiveAsync_BlockingOnSubscription_WokenBySend()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        var pending = queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Blocking = true }, Ct).AsTask();
        Assert.False(pending.IsCompleted);
        Send(queue, "c");
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal([1L], Seqs(result.Messages));
        Assert.Equal(0, result.Dropped);
    }

    [Fact]
    public async Task ReceiveAsync_BlockingOnSubscriptionTimesOut_ReturnsEmpty()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        var pending = queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Blocking = true, TimeoutSeconds = 2 }, Ct).AsTask();
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty((await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Messages);
    }

    [Fact]
    public async Task ReceiveAsync_BlockingOnSubscriptionCancelled_LosesNothing()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        using var cts = new CancellationTokenSource();
        var pending = queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Blocking = true }, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Send(queue, "c");
        Assert.Equal([1L], Seqs(Read(subscription, 10, out _)));
    }

    [Fact]
    public async Task WaitToReadAsync_CompletesTrueOnSendAndFalseOnUnsubscribe()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        var wait = subscription.WaitToReadAsync(Ct).AsTask();
        Assert.False(wait.IsCompleted);
        Send(queue, "c");
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(subscription.TryRead(out var message));
        Assert.Equal(1, message.Seq);
        Assert.False(subscription.TryRead(out _));

        var closing = subscription.WaitToReadAsync(Ct).AsTask();
        queue.Unsubscribe(subscription.Id);
        Assert.False(await closing.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.False(await subscription.WaitToReadAsync(Ct));
    }

    [Fact]
    public void UnsubscribeOwner_RemovesOnlyThatOwnersSubscriptions()
    {
        var queue = NewQueue();
        var mine = queue.Subscribe("c", new SubscribeOptions { Owner = "ws-1" });
        queue.Subscribe("d", new SubscribeOptions { Owner = "ws-1" });
        var theirs = queue.Subscribe("c", new SubscribeOptions { Owner = "ws-2" });
        Assert.Equal(2, queue.UnsubscribeOwner("ws-1"));
        Assert.True(mine.IsClosed);
        Assert.False(theirs.IsClosed);
        Assert.Equal(1, queue.GetStats().TotalSubscriptions);
    }

    [Fact]
    public void Subscribe_BeyondPerOwnerLimit_IsRefusedAndFreedByUnsubscribe()
    {
        var queue = NewQueue(new QueueOptions { MaxSubscriptionsPerOwner = 2 });
        var first = queue.Subscribe("c", new SubscribeOptions { Owner = "o" });
        queue.Subscribe("c", new SubscribeOptions { Owner = "o" });
        AssertRefused(QueueErrorCodes.TooManySubscriptions, "subscription", "limit of 2", () => queue.Subscribe("c", new SubscribeOptions { Owner = "o" }));
        queue.Subscribe("c", new SubscribeOptions { Owner = "other" });
        queue.Unsubscribe(first.Id);
        queue.Subscribe("c", new SubscribeOptions { Owner = "o" });
    }

    [Fact]
    public void Sweep_RemovesSubscriptionsIdleLongerThanTheLimit()
    {
        var queue = NewQueue(new QueueOptions { SubscriptionIdleTimeout = TimeSpan.FromMinutes(10), SweepInterval = TimeSpan.FromHours(1) });
        var idle = queue.Subscribe("c");
        var active = queue.Subscribe("c");
        Time.Advance(TimeSpan.FromMinutes(9));
        active.TryRead(out _);
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, queue.Sweep().SubscriptionsRemoved);
        Assert.True(idle.IsClosed);
        Assert.False(active.IsClosed);
    }

    [Fact]
    public async Task Sweep_KeepsASubscriptionThatIsBeingWaitedOn()
    {
        var queue = NewQueue(new QueueOptions { SubscriptionIdleTimeout = TimeSpan.FromMinutes(10), SweepInterval = TimeSpan.FromHours(1) });
        var subscription = queue.Subscribe("c");
        var wait = subscription.WaitToReadAsync(Ct).AsTask();
        Time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(0, queue.Sweep().SubscriptionsRemoved);
        Send(queue, "c");
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public void Subscription_MessageExpiredWhileBuffered_IsSkippedAndCountedDropped()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        Send(queue, "c", ttl: 1);
        Send(queue, "c", ttl: 60);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([2L], Seqs(Read(subscription, 10, out var dropped)));
        Assert.Equal(1, dropped);
    }
}
