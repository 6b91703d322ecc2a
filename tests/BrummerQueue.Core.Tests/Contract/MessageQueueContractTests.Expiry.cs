namespace BrummerQueue.Core.Tests.Contract;

public abstract partial class MessageQueueContractTests
{
    [Fact]
    public void Expired_IsNeverReturnedEvenBeforeCleanup()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "c", ttl: 2);
        Time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Single(Take(queue, "c", peek: true));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Empty(Take(queue, "c", peek: true));
        Assert.Empty(Take(queue, "c"));
        Assert.Equal(1, queue.GetStats().MessagesExpired);
    }

    [Fact]
    public void Expired_InTheMiddleOfTheBacklog_IsSkippedAndCounted()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "c", ttl: 60);
        Send(queue, "c", ttl: 1);
        Send(queue, "c", ttl: 60);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([1L, 3L], Seqs(Take(queue, "c", peek: true)));
        Assert.Equal(2, queue.ListChannels()[0].Messages);
        var stats = queue.GetStats();
        Assert.Equal(1, stats.MessagesExpired);
        Assert.Equal(2, stats.TotalMessages);
        Assert.Equal([1L, 3L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public void Sweep_RemovesEveryExpiredMessageNotOnlyTheHead()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "c", "\"0123456789\"", ttl: 0);
        Send(queue, "c", "\"0123456789\"", ttl: 1);
        Send(queue, "c", "\"0123456789\"", ttl: 0);
        Send(queue, "c", "\"0123456789\"", ttl: 1);
        Time.Advance(TimeSpan.FromSeconds(5));
        var result = queue.Sweep();
        Assert.Equal(2, result.ExpiredMessages);
        Assert.Equal(24, queue.GetStats().TotalBytes);
        Assert.Equal([1L, 3L], Seqs(Take(queue, "c")));
    }

    [Fact]
    public void Sweep_RemovesEmptyChannelsAndKeepsTheirTotals()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "gone");
        Send(queue, "gone", ttl: 1);
        Send(queue, "kept");
        queue.Subscribe("watched");
        Take(queue, "gone", 1);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        Assert.Equal(["kept", "watched"], queue.ListChannels().Select(c => c.Name));
        var stats = queue.GetStats();
        Assert.Equal(3, stats.MessagesSent);
        Assert.Equal(1, stats.MessagesConsumed);
        Assert.Equal(1, stats.MessagesExpired);
        Assert.Equal(2, stats.TotalChannels);
        Assert.False(stats.Channels.ContainsKey("gone"));
    }

    [Fact]
    public void Sweeper_RunsOnItsIntervalWithoutBeingCalled()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromSeconds(10) });
        Send(queue, "c", ttl: 1);
        Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Single(queue.ListChannels());
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(queue.ListChannels());
        Assert.Equal(1, queue.GetStats().MessagesExpired);
    }

    [Fact]
    public void Channel_RecreatedAfterCleanup_StartsSeqAgain()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "c");
        Take(queue, "c");
        queue.Sweep();
        Assert.Equal(1, Send(queue, "c").Seq);
    }
}
