namespace BrummerQueue.Core.Tests.Contract;

public abstract partial class MessageQueueContractTests
{
    [Fact]
    public void ListChannels_SortedByNameWithCounts()
    {
        var queue = NewQueue();
        Send(queue, "zeta");
        Send(queue, "alpha");
        Send(queue, "alpha");
        queue.Subscribe("alpha");
        queue.Subscribe("mid");
        Assert.Equal(
            [new ChannelInfo("alpha", EpochOf(queue, "alpha"), 2, 1, 2), new ChannelInfo("mid", EpochOf(queue, "mid"), 0, 1, 0), new ChannelInfo("zeta", EpochOf(queue, "zeta"), 1, 0, 1)],
            queue.ListChannels());
    }

    [Fact]
    public void GetStats_AgreesWithWhatClientsObserved()
    {
        var queue = NewQueue(new QueueOptions { ChannelCapacity = 3, SweepInterval = TimeSpan.FromHours(1) });
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "a", "\"abc\"");
        }

        Send(queue, "b", "1", ttl: 1);
        Send(queue, "b", "2");
        queue.Subscribe("b");
        Take(queue, "a", 2);
        Time.Advance(TimeSpan.FromSeconds(3));

        var stats = queue.GetStats();
        Assert.Equal(2, stats.TotalMessages);
        Assert.Equal(2, stats.TotalChannels);
        Assert.Equal(1, stats.TotalSubscriptions);
        Assert.Equal(5 + 1, stats.TotalBytes);
        Assert.Equal(7, stats.MessagesSent);
        Assert.Equal(2, stats.MessagesConsumed);
        Assert.Equal(1, stats.MessagesExpired);
        Assert.Equal(2, stats.MessagesDropped);
        Assert.Equal(3, stats.UptimeSeconds);
        Assert.Equal(new ChannelStats(EpochOf(queue, "a"), 1, 0, 5, 2, 0, 2), stats.Channels["a"]);
        Assert.Equal(new ChannelStats(EpochOf(queue, "b"), 1, 1, 2, 0, 1, 0), stats.Channels["b"]);
        Assert.Equal(["a", "b"], stats.Channels.Keys);
    }

    [Fact]
    public void StatsAndChannelList_FollowChannelsAsTheyAreAddedRemovedAndMadeAgain()
    {
        var queue = NewQueue(new QueueOptions { SweepInterval = TimeSpan.FromHours(1) });
        Send(queue, "m");
        Assert.Equal(["m"], queue.GetStats().Channels.Keys);

        // Added after a stats call: appears, in name order.
        Send(queue, "b");
        Send(queue, "z");
        Assert.Equal(["b", "m", "z"], queue.GetStats().Channels.Keys);
        Assert.Equal(["b", "m", "z"], queue.ListChannels().Select(c => c.Name));

        // Drained and cleaned up: gone from the channels, still in the totals.
        Take(queue, "m");
        queue.Sweep();
        var afterSweep = queue.GetStats();
        Assert.Equal(["b", "z"], afterSweep.Channels.Keys);
        Assert.Equal(["b", "z"], queue.ListChannels().Select(c => c.Name));
        Assert.Equal(3, afterSweep.MessagesSent);
        Assert.Equal(1, afterSweep.MessagesConsumed);

        // Made again under the same name: fresh figures, totals carry on.
        Send(queue, "m");
        var again = queue.GetStats();
        Assert.Equal(["b", "m", "z"], again.Channels.Keys);
        Assert.Equal(new ChannelStats(EpochOf(queue, "m"), 1, 0, 1, 0, 0, 0), again.Channels["m"]);
        Assert.Equal(4, again.MessagesSent);
    }
}
