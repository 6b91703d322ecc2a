using System.Collections.Concurrent;

namespace BrummerQueue.Core.Tests.Contract;

/// <summary>Wildcard subscriptions (issue 13 point 2; docs/protocol.md "Wildcard subscriptions"), the same for every store.</summary>
public abstract partial class MessageQueueContractTests
{
    private static List<QueueMessage> ReadPattern(Subscription subscription) => Read(subscription, 1000, out _);

    private static string[] Names(IEnumerable<QueueMessage> messages) => [.. messages.Select(m => $"{m.Channel}#{m.Seq}")];

    [Fact]
    public void SubscribePattern_ExistingAndLaterChannels_GetsEveryMatchingMessageWithItsChannel()
    {
        var queue = NewQueue();
        Send(queue, "app.a");
        var subscription = queue.Subscribe("app.>");
        Send(queue, "app.a", "1");
        Send(queue, "app.b.c", "2");
        Send(queue, "app.new", "3");
        Send(queue, "other.x", "4");
        Send(queue, "app", "5");
        Assert.Equal(["app.a#2", "app.b.c#1", "app.new#1"], Names(ReadPattern(subscription)));
        Assert.Equal("app.>", subscription.Channel);
        Assert.Equal(string.Empty, subscription.Epoch);
        Assert.Null(subscription.Recovered);
    }

    [Fact]
    public void SubscribePattern_DoesNotCreateAChannel()
    {
        var queue = NewQueue();
        queue.Subscribe("app.*");
        Assert.Empty(queue.ListChannels());
    }

    [Theory]
    [InlineData("a.*", "a.b", true)]
    [InlineData("a.*", "a", false)]
    [InlineData("a.*", "a.b.c", false)]
    [InlineData("a.>", "a.b.c", true)]
    [InlineData("a.>", "a", false)]
    [InlineData("*.b", "x.b", true)]
    [InlineData("*.b", "x.y.b", false)]
    [InlineData("*", "a", true)]
    [InlineData("*", "a.b", false)]
    [InlineData(">", "a.b.c", true)]
    [InlineData("a.*.c.>", "a.x.c.d.e", true)]
    [InlineData("a.*.c.>", "a.x.c", false)]
    public void SubscribePattern_StarIsOneTokenGreaterIsTheRest_DeliversExactlyTheMatches(string pattern, string channel, bool expected)
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe(pattern);
        Send(queue, channel);
        Assert.Equal(expected ? 1 : 0, ReadPattern(subscription).Count);
        Assert.Equal(expected, ChannelPattern.Matches(pattern, channel));
    }

    [Theory]
    [InlineData("a.*b")]
    [InlineData("a.>.b")]
    [InlineData("a..*")]
    [InlineData(".*")]
    [InlineData("*.")]
    [InlineData("a.b>")]
    [InlineData("a.*.é")]
    public void SubscribePattern_BrokenRule_RefusedNamingChannelAndRule(string pattern)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "must be 1-128 characters from A-Z a-z 0-9 . _ - : / * >", () => queue.Subscribe(pattern));
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "'>' only as the whole last token", () => queue.Subscribe(pattern));
    }

    [Fact]
    public void SubscribePattern_LongerThanANameMayBe_Refused()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "1-128 characters", () => queue.Subscribe(new string('a', 127) + ".>"));
    }

    [Fact]
    public void SubscribePattern_WithSinceSeqOrEpoch_RefusedSayingSeqIsPerChannel()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "since_seq", "seq and epoch belong to one channel", () => queue.Subscribe("app.>", new SubscribeOptions { SinceSeq = 0 }));
        AssertRefused(QueueErrorCodes.InvalidArgument, "since_seq", "a pattern spans channels", () => queue.Subscribe("app.>", new SubscribeOptions { SinceSeq = 3, Epoch = "abc" }));
        Assert.Equal(0, queue.GetStats().TotalSubscriptions);
    }

    [Fact]
    public void SubscribePattern_InterleavedChannels_KeepsEachChannelsSeqOrder()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("app.*", new SubscribeOptions { BufferSize = 1000 });
        for (var i = 0; i < 30; i++)
        {
            Send(queue, i % 3 == 0 ? "app.a" : i % 3 == 1 ? "app.b" : "app.c");
        }

        var messages = ReadPattern(subscription);
        Assert.Equal(30, messages.Count);
        foreach (var group in messages.GroupBy(m => m.Channel))
        {
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), Seqs(group));
        }
    }

    [Fact]
    public void SubscribePattern_ChannelRemovedByCleanup_SendRecreatesItAndStillDelivers()
    {
        var queue = NewQueue();
        Send(queue, "app.a");
        Assert.Single(Take(queue, "app.a"));
        var subscription = queue.Subscribe("app.>");

        // A pattern subscription does not keep a matching channel from cleanup.
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        Assert.Empty(queue.ListChannels());
        Send(queue, "app.a", "\"again\"");
        var message = Assert.Single(ReadPattern(subscription));
        Assert.Equal("app.a", message.Channel);
        Assert.Equal(1, message.Seq);
        Assert.Equal("\"again\"", message.Payload.ToString());
    }

    [Fact]
    public void SubscribePattern_Unsubscribe_StopsDeliveryAndClosesIt()
    {
        var queue = NewQueue();
        Send(queue, "app.a");
        var subscription = queue.Subscribe("app.>");
        Assert.True(queue.TryGetSubscription(subscription.Id, out var found));
        Assert.Equal("app.>", found.Channel);
        Assert.True(queue.Unsubscribe(subscription.Id));
        Assert.False(queue.Unsubscribe(subscription.Id));
        Assert.Equal(0, queue.Send("app.a", new MessageDraft(null, JsonPayload.Null, null)).DeliveredTo);
        Assert.Equal(0, queue.Send("app.b", new MessageDraft(null, JsonPayload.Null, null)).DeliveredTo);
        Assert.False(queue.TryGetSubscription(subscription.Id, out _));
        Assert.Equal(0, queue.GetStats().TotalSubscriptions);
    }

    [Fact]
    public void SubscribePattern_UnsubscribeOwner_RemovesPatternsToo()
    {
        var queue = NewQueue();
        queue.Subscribe("app.>", new SubscribeOptions { Owner = "ws-1" });
        queue.Subscribe("plain", new SubscribeOptions { Owner = "ws-1" });
        Assert.Equal(2, queue.UnsubscribeOwner("ws-1"));
        Assert.Equal(0, queue.Send("app.x", new MessageDraft(null, JsonPayload.Null, null)).DeliveredTo);
    }

    [Fact]
    public void SubscribePattern_CountsAgainstTheOwnersLimit()
    {
        var queue = NewQueue(new QueueOptions { MaxSubscriptionsPerOwner = 1 });
        queue.Subscribe("app.>", new SubscribeOptions { Owner = "ws-1" });
        AssertRefused(QueueErrorCodes.TooManySubscriptions, "subscription", "limit of 1", () => queue.Subscribe("b.*", new SubscribeOptions { Owner = "ws-1" }));
    }

    [Fact]
    public void SubscribePattern_Stats_CountedOnceInTotalsNotInChannelsAndDeliveredToCountsIt()
    {
        var queue = NewQueue();
        queue.Subscribe("app.a");
        queue.Subscribe("app.>");
        var result = queue.Send("app.a", new MessageDraft(null, JsonPayload.Null, null));
        Assert.Equal(2, result.DeliveredTo);
        Assert.Equal(1, queue.Send("app.b", new MessageDraft(null, JsonPayload.Null, null)).DeliveredTo);
        var stats = queue.GetStats();
        Assert.Equal(2, stats.TotalSubscriptions);
        Assert.Equal(1, stats.Channels["app.a"].Subscriptions);
        Assert.Equal(0, stats.Channels["app.b"].Subscriptions);
        Assert.Equal([1, 0], queue.ListChannels().Select(c => c.Subscriptions));
    }

    [Fact]
    public void SubscribePattern_IdleLongerThanTheLimit_RemovedBySweep()
    {
        var queue = NewQueue(new QueueOptions { SubscriptionIdleTimeout = TimeSpan.FromMinutes(10), SweepInterval = TimeSpan.FromHours(1) });
        var subscription = queue.Subscribe("app.>");
        Time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(0, queue.Sweep().SubscriptionsRemoved);
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, queue.Sweep().SubscriptionsRemoved);
        Assert.False(queue.TryGetSubscription(subscription.Id, out _));
    }

    [Fact]
    public async Task SubscribePattern_BlockingReceive_WokenByAChannelMadeLater()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("app.*");
        var receive = queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Blocking = true, TimeoutSeconds = 300 }, Ct).AsTask();
        Assert.False(receive.IsCompleted);
        Send(queue, "app.late", "7");
        var result = await receive.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var message = Assert.Single(result.Messages);
        Assert.Equal("app.late", message.Channel);
        Assert.Equal("7", message.Payload.ToString());
    }

    [Fact]
    public async Task SubscribePattern_PutBack_ReturnsMessagesWithTheirChannels()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("app.*");
        Send(queue, "app.a", "1");
        Send(queue, "app.b", "2");
        var taken = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Limit = 10 }, Ct);
        Assert.Equal(2, taken.Messages.Count);
        Assert.Equal(2, queue.PutBack(taken).Restored);
        Assert.Equal(["app.a#1", "app.b#1"], Names(ReadPattern(subscription)));
    }

    [Fact]
    public void SubscribePattern_SeveralPatternsOverlap_EachGetsItsCopy()
    {
        var queue = NewQueue();
        var star = queue.Subscribe("app.*");
        var rest = queue.Subscribe("app.>");
        var other = queue.Subscribe("web.>");
        Assert.Equal(2, queue.Send("app.x", new MessageDraft(null, JsonPayload.Null, null)).DeliveredTo);
        Assert.Single(ReadPattern(star));
        Assert.Single(ReadPattern(rest));
        Assert.Empty(ReadPattern(other));
    }

    /// <summary>
    /// Issue 13 point 4: channels made concurrently with pattern subscribes. A shared counter orders the events: a
    /// subscription's number is taken after its subscribe returned, a send's before it began. Every message of a matching
    /// channel whose send began after the subscribe returned arrives exactly once, and each channel's messages arrive as
    /// one run of consecutive seqs up to its last (nothing skipped once the pattern was attached).
    /// </summary>
    [Fact]
    public async Task SubscribePattern_ChannelsMadeConcurrently_EveryLaterMessageOnceInSeqOrder()
    {
        const int Producers = 3, ChannelsEach = 16, MessagesEach = 8, Subscribers = 2, SubscriptionsEach = 12;
        string[] patterns = ["app.>", "app.*.*", "app.p1.*", "app.*.c3", "other.>", "*.p2.>"];
        var queue = NewQueue();
        long clock = 0;
        var sent = new ConcurrentBag<(string Channel, long Seq, long StartedAt)>();
        var made = new ConcurrentBag<(Subscription Subscription, string Pattern, long SubscribedAt)>();

        // Everyone starts together; subscribers wait for the producers' first channels and producers, half-way, for half the
        // subscriptions, so subscribes and channel creation overlap even when the machine runs the tasks one after another.
        using var start = new Barrier(Producers + Subscribers);
        using var firstChannels = new CountdownEvent(Producers);
        using var halfSubscribed = new CountdownEvent(Subscribers);
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(
            () =>
            {
                start.SignalAndWait(Ct);
                for (var c = 0; c < ChannelsEach; c++)
                {
                    if (c == 1)
                    {
                        firstChannels.Signal();
                    }

                    if (c == ChannelsEach / 2)
                    {
                        halfSubscribed.Wait(Ct);
                    }

                    for (var m = 0; m < MessagesEach; m++)
                    {
                        var channel = $"app.p{p}.c{c}";
                        var startedAt = Interlocked.Increment(ref clock);
                        sent.Add((channel, Send(queue, channel).Seq, startedAt));
                    }
                }
            },
            Ct));
        var subscribers = Enumerable.Range(0, Subscribers).Select(s => Task.Run(
            () =>
            {
                start.SignalAndWait(Ct);
                firstChannels.Wait(Ct);
                for (var i = 0; i < SubscriptionsEach; i++)
                {
                    var pattern = patterns[((s * SubscriptionsEach) + i) % patterns.Length];
                    var subscription = queue.Subscribe(pattern, new SubscribeOptions { BufferSize = 1000 });
                    made.Add((subscription, pattern, Interlocked.Increment(ref clock)));
                    if (i == SubscriptionsEach / 2)
                    {
                        halfSubscribed.Signal();
                    }
                }
            },
            Ct));
        await Task.WhenAll(producers.Concat(subscribers)).WaitAsync(TimeSpan.FromSeconds(120), Ct);

        Assert.Equal(Subscribers * SubscriptionsEach, made.Count);
        foreach (var (subscription, pattern, subscribedAt) in made)
        {
            var got = Read(subscription, 10_000, out var dropped);
            Assert.Equal(0, dropped);
            Assert.All(got, m => Assert.True(ChannelPattern.Matches(pattern, m.Channel), $"{m.Channel} reached {pattern}"));
            foreach (var group in got.GroupBy(m => m.Channel))
            {
                var seqs = Seqs(group);
                Assert.Equal(Enumerable.Range((int)seqs[0], MessagesEach - (int)seqs[0] + 1).Select(i => (long)i), seqs);
            }

            var delivered = got.Select(m => (m.Channel, m.Seq)).ToHashSet();
            Assert.Equal(got.Count, delivered.Count);
            foreach (var (channel, seq, startedAt) in sent)
            {
                if (startedAt > subscribedAt && ChannelPattern.Matches(pattern, channel))
                {
                    Assert.Contains((channel, seq), delivered);
                }
            }
        }
    }
}
