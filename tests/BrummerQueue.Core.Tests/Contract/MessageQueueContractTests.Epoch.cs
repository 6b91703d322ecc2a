namespace BrummerQueue.Core.Tests.Contract;

/// <summary>SPEC.md §1 "Epoch" and "Resume": every resume says whether it has a gap; never a silent one.</summary>
public abstract partial class MessageQueueContractTests
{
    [Fact]
    public void Subscribe_SinceSeqInTheSameEpochNothingMissing_ReplaysExactlyAndRecovered()
    {
        var queue = NewQueue();
        var first = queue.Subscribe("c");
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 2, Epoch = first.Epoch });

        Assert.Equal(first.Epoch, resumed.Epoch);
        Assert.True(resumed.Recovered);
        Assert.Equal([3L, 4L, 5L], Seqs(ReadAll(resumed)));
    }

    [Fact]
    public void Subscribe_SinceSeqAtLastSeq_NothingReplayedAndRecovered()
    {
        var queue = NewQueue();
        Send(queue, "c");
        Send(queue, "c");

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 2, Epoch = EpochOf(queue, "c") });

        Assert.True(resumed.Recovered);
        Assert.Empty(ReadAll(resumed));
    }

    [Fact]
    public void Subscribe_MessagesBeforeSinceSeqConsumed_StillRecovered()
    {
        var queue = NewQueue();
        for (var i = 0; i < 4; i++)
        {
            Send(queue, "c");
        }

        Take(queue, "c", 2);

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 2, Epoch = EpochOf(queue, "c") });

        Assert.True(resumed.Recovered);
        Assert.Equal([3L, 4L], Seqs(ReadAll(resumed)));
    }

    [Fact]
    public void Subscribe_MessagesAfterSinceSeqConsumed_NotRecoveredAndReplaysWhatIsRetained()
    {
        var queue = NewQueue();
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        Take(queue, "c", 3);

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1, Epoch = EpochOf(queue, "c") });

        Assert.False(resumed.Recovered);
        Assert.Equal([4L, 5L], Seqs(ReadAll(resumed)));
    }

    [Fact]
    public void Subscribe_MessagesAfterSinceSeqEvicted_NotRecoveredAndReplaysWhatIsRetained()
    {
        var queue = NewQueue(new QueueOptions { ChannelCapacity = 3 });
        for (var i = 0; i < 6; i++)
        {
            Send(queue, "c");
        }

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 2, Epoch = EpochOf(queue, "c") });

        Assert.False(resumed.Recovered);
        Assert.Equal([4L, 5L, 6L], Seqs(ReadAll(resumed)));
    }

    [Fact]
    public void Subscribe_MessageAfterSinceSeqExpired_NotRecoveredAndReplaysWhatIsRetained()
    {
        var queue = NewQueue();
        Send(queue, "c", ttl: 60);
        Send(queue, "c", ttl: 1);
        Send(queue, "c", ttl: 60);
        Time.Advance(TimeSpan.FromSeconds(1));

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1, Epoch = EpochOf(queue, "c") });

        Assert.False(resumed.Recovered);
        Assert.Equal([3L], Seqs(ReadAll(resumed)));
    }

    [Fact]
    public void Subscribe_ChannelRemovedAndRecreated_NewEpochBacklogReplayedAndNotRecovered()
    {
        var queue = NewQueue();
        var before = queue.Subscribe("c");
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        Take(queue, "c");
        Assert.True(queue.Unsubscribe(before.Id));
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        Send(queue, "c", "\"new 1\"");
        Send(queue, "c", "\"new 2\"");

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1, Epoch = before.Epoch });

        Assert.NotEqual(before.Epoch, resumed.Epoch);
        Assert.Equal(EpochOf(queue, "c"), resumed.Epoch);
        Assert.False(resumed.Recovered);
        Assert.Equal(["\"new 1\"", "\"new 2\""], ReadAll(resumed).Select(m => m.Payload.ToString()));
    }

    [Fact]
    public void Subscribe_NoEpochSinceSeqBeyondLastSeq_TreatedAsAnEarlierEpoch()
    {
        // The case: a client older than epochs saw seq 5, the channel was removed, seqs 1 and 2 are new.
        var queue = NewQueue();
        for (var i = 0; i < 5; i++)
        {
            Send(queue, "c");
        }

        Take(queue, "c");
        queue.Sweep();
        Send(queue, "c");
        Send(queue, "c");

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 5 });

        Assert.False(resumed.Recovered);
        Assert.Equal([1L, 2L], Seqs(ReadAll(resumed)));
    }

    [Fact]
    public void Subscribe_NoEpochSinceSeqWithinLastSeq_UsesTheSameEpochRule()
    {
        var queue = NewQueue();
        for (var i = 0; i < 3; i++)
        {
            Send(queue, "c");
        }

        var exact = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1 });
        Take(queue, "c", 2);
        var gap = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1 });

        Assert.True(exact.Recovered);
        Assert.Equal([2L, 3L], Seqs(ReadAll(exact)));
        Assert.False(gap.Recovered);
        Assert.Equal([3L], Seqs(ReadAll(gap)));
    }

    [Fact]
    public void Subscribe_SinceSeqZeroOnANewChannel_Recovered()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 0 });
        Assert.True(subscription.Recovered);
    }

    [Fact]
    public void Subscribe_SameEpochSinceSeqBeyondLastSeq_NothingReplayedAndNotRecovered()
    {
        var queue = NewQueue();
        Send(queue, "c");

        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 7, Epoch = EpochOf(queue, "c") });

        Assert.False(resumed.Recovered);
        Assert.Empty(ReadAll(resumed));
    }

    [Fact]
    public void Subscribe_WithoutSinceSeq_RecoveredIsNullAndEpochIsTheChannels()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var subscription = queue.Subscribe("c");
        Assert.Null(subscription.Recovered);
        Assert.Equal(EpochOf(queue, "c"), subscription.Epoch);
        Assert.Empty(ReadAll(subscription));
    }

    [Fact]
    public void Epoch_StableWhileTheChannelLivesAndNewWhenItIsMadeAgain()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var epoch = EpochOf(queue, "c");
        Assert.True(ChannelEpoch.IsValid(epoch), epoch);

        // Sends, receives, subscriptions and a sweep that leaves the channel do not change it.
        Send(queue, "c");
        var subscription = queue.Subscribe("c");
        Take(queue, "c");
        queue.Sweep();
        Assert.Equal(epoch, EpochOf(queue, "c"));
        Assert.Equal(epoch, subscription.Epoch);

        // Removed by cleanup and made again (by a subscribe, then by a send): a new epoch each time.
        Assert.True(queue.Unsubscribe(subscription.Id));
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        var second = queue.Subscribe("c");
        Assert.NotEqual(epoch, second.Epoch);
        Assert.True(ChannelEpoch.IsValid(second.Epoch), second.Epoch);
        Assert.True(queue.Unsubscribe(second.Id));
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        Assert.Equal(1, Send(queue, "c").Seq);
        var third = EpochOf(queue, "c");
        Assert.NotEqual(epoch, third);
        Assert.NotEqual(second.Epoch, third);
    }

    [Fact]
    public void ListAndStats_CarryEachChannelsEpoch()
    {
        var queue = NewQueue();
        var a = queue.Subscribe("a");
        var b = queue.Subscribe("b");
        Send(queue, "b");

        Assert.Equal([a.Epoch, b.Epoch], queue.ListChannels().Select(c => c.Epoch));
        var stats = queue.GetStats();
        Assert.Equal(a.Epoch, stats.Channels["a"].Epoch);
        Assert.Equal(b.Epoch, stats.Channels["b"].Epoch);
        Assert.NotEqual(a.Epoch, b.Epoch);
    }

    [Fact]
    public void Subscribe_EpochWithoutSinceSeq_RefusedNamingEpoch()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "epoch", "epoch needs since_seq", () => queue.Subscribe("c", new SubscribeOptions { Epoch = "abc" }));
        Assert.Empty(queue.ListChannels());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ABCDEFGH")]
    [InlineData("abc-defg")]
    [InlineData("abc def")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void Subscribe_EpochOfTheWrongShape_RefusedNamingEpochAndTheRule(string epoch)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "epoch", "epoch " + ChannelEpoch.Rule, () => queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1, Epoch = epoch }));
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public void Subscribe_EpochOfTheLongestShape_Accepted()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 0, Epoch = new string('z', ChannelEpoch.MaxLength) });
        Assert.False(subscription.Recovered);
    }

    /// <summary>The current epoch of a listed channel.</summary>
    protected static string EpochOf(IMessageQueue queue, string channel) =>
        Assert.Single(queue.ListChannels(), c => c.Name == channel).Epoch;

    private static List<QueueMessage> ReadAll(Subscription subscription)
    {
        var messages = new List<QueueMessage>();
        subscription.ReadBatch(ReceiveRequest.MaxLimit, messages);
        return messages;
    }
}
