namespace BrummerQueue.Core.Tests.Contract;

// The figures beyond SPEC.md's stats that the dashboard shows: QueueStats.Subscriptions and the delivered counts. They
// were tested against the in-memory store only (its own test class), which is how the Redis store came to give 0 and an
// empty list unnoticed; here every store must give them.
public abstract partial class MessageQueueContractTests
{
    [Fact]
    public void GetStats_SubscriptionNeverRead_ShowsCreatedLastReadBufferedAndWhenTheIdleLimitEndsIt()
    {
        var queue = NewQueue(new QueueOptions { SubscriptionIdleTimeout = TimeSpan.FromMinutes(10), SweepInterval = TimeSpan.FromHours(1) });
        var created = Time.GetUtcNow();
        var subscription = queue.Subscribe("jobs", new SubscribeOptions { Owner = "mcp:abc" });
        Send(queue, "jobs");
        Send(queue, "jobs");
        Time.Advance(TimeSpan.FromMinutes(3));

        var listed = Assert.Single(queue.GetStats().Subscriptions);
        Assert.Equal(new SubscriptionStats(subscription.Id, "jobs", "mcp:abc", created, created, 2, 0, false, created.AddMinutes(10)), listed);

        // A read moves last_read_at and the idle limit on; what it took leaves the buffer.
        var read = Time.GetUtcNow();
        Assert.True(subscription.TryRead(out _));
        listed = Assert.Single(queue.GetStats().Subscriptions);
        Assert.Equal((read, 1, read.AddMinutes(10)), (listed.LastReadAt, listed.Buffered, listed.IdleExpiresAt));
        Assert.Equal(created, listed.CreatedAt);

        // Past the idle limit the sweep removes it, and the list no longer shows it.
        Time.Advance(TimeSpan.FromMinutes(10));
        queue.Sweep();
        Assert.Empty(queue.GetStats().Subscriptions);
    }

    [Fact]
    public async Task GetStats_SubscriptionWithAWaitingReader_IsReadingAndHasNoIdleExpiry()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("jobs");
        var wait = subscription.WaitToReadAsync(Ct).AsTask();

        var listed = Assert.Single(queue.GetStats().Subscriptions);
        Assert.True(listed.Reading);
        Assert.Null(listed.IdleExpiresAt);
        Assert.Null(listed.Owner);

        Send(queue, "jobs");
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        listed = Assert.Single(queue.GetStats().Subscriptions);
        Assert.False(listed.Reading);
        Assert.NotNull(listed.IdleExpiresAt);
    }

    [Fact]
    public void GetStats_SubscriptionsAndDrops_ListedByChannelThenAgeWithDroppedSinceLastRead()
    {
        var queue = NewQueue();
        var b = queue.Subscribe("b", new SubscribeOptions { BufferSize = 1 });
        Time.Advance(TimeSpan.FromSeconds(1));
        var olderA = queue.Subscribe("a");
        var olderACreated = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromSeconds(1));
        var newerA = queue.Subscribe("a");
        Send(queue, "b");
        Send(queue, "b");
        Send(queue, "b");

        var listed = queue.GetStats().Subscriptions;
        Assert.Equal([olderA.Id, newerA.Id, b.Id], listed.Select(s => s.Id));
        Assert.Equal(olderACreated, listed[0].CreatedAt);
        Assert.Equal((1, 2L), (listed[2].Buffered, listed[2].Dropped));

        queue.Unsubscribe(newerA.Id);
        Assert.Equal([olderA.Id, b.Id], queue.GetStats().Subscriptions.Select(s => s.Id));
    }

    [Fact]
    public void GetStats_SendsReachingSubscriptions_CountOneDeliveryPerCopyAndKeepThemAfterCleanup()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "quiet");
        var one = queue.Subscribe("busy");
        var two = queue.Subscribe("busy");
        Send(queue, "busy");
        Send(queue, "busy");

        var stats = queue.GetStats();
        Assert.Equal(4, stats.MessagesDelivered);
        Assert.Equal(4, stats.Channels["busy"].Delivered);
        Assert.Equal(0, stats.Channels["quiet"].Delivered);

        queue.Unsubscribe(one.Id);
        queue.Unsubscribe(two.Id);
        Take(queue, "busy");
        queue.Sweep();
        stats = queue.GetStats();
        Assert.False(stats.Channels.ContainsKey("busy"));
        Assert.Equal(4, stats.MessagesDelivered);
    }
}
