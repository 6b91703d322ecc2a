using BrummerQueue.Core;

namespace BrummerQueue.Core.Tests.Contract;

/// <summary>Acknowledged receive (issue 13 point 3; docs/protocol.md "Acknowledged receive"): leases, acks, redelivery, dead letters.</summary>
public abstract partial class MessageQueueContractTests
{
    private static ReceiveRequest Leased(string channel, int limit = 10, double ackTimeout = 30, string? owner = null) =>
        new() { Channel = channel, Limit = limit, AckTimeoutSeconds = ackTimeout, Owner = owner };

    private static string[] Ids(IEnumerable<QueueMessage> messages) => [.. messages.Select(m => m.Id.ToString("D"))];

    [Fact]
    public async Task ReceiveAsync_WithAckTimeout_HidesLeasedMessagesFromOtherReceiversAndPeeks()
    {
        var queue = NewQueue();
        Send(queue, "c", "1");
        Send(queue, "c", "2");
        Send(queue, "c", "3");

        var leased = await queue.ReceiveAsync(Leased("c", limit: 2), Ct);

        Assert.Equal([1L, 2L], Seqs(leased.Messages));
        Assert.All(leased.Messages, m => Assert.Equal(0, m.DeliveryCount));
        Assert.Equal([3L], Seqs(Take(queue, "c", peek: true)));
        var second = await queue.ReceiveAsync(Leased("c"), Ct);
        Assert.Equal([3L], Seqs(second.Messages));
        Assert.Empty(Take(queue, "c"));
        var figures = queue.GetStats().Channels["c"];
        Assert.Equal(0, figures.Messages);
        Assert.Equal(0, figures.Consumed);
        Assert.Equal(new LeaseFigures(3, 3, 0, 0, 0), figures.Leases);
        Assert.Equal(0, queue.ListChannels().Single().Messages);
    }

    [Fact]
    public async Task Ack_LeasedMessages_RemovesThemAndCountsAckedAndConsumed()
    {
        var queue = NewQueue();
        Send(queue, "c", "\"a\"");
        Send(queue, "c", "\"b\"");
        var leased = await queue.ReceiveAsync(Leased("c"), Ct);

        var result = queue.Ack("c", Ids(leased.Messages));

        Assert.Equal(2, result.Acked);
        Assert.Empty(result.NotLeased);
        var stats = queue.GetStats();
        Assert.Equal(new ChannelStats(EpochOf(queue, "c"), 0, 0, 2, 2, 0, 0) { Leases = new LeaseFigures(0, 2, 2, 0, 0) }, stats.Channels["c"]);
        Assert.Equal(0, stats.TotalBytes);
        Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Empty(Take(queue, "c"));
        stats = queue.GetStats();
        Assert.Equal(new LeaseFigures(0, 2, 2, 0, 0), stats.Leases);
        Assert.Equal(2, stats.MessagesConsumed);
    }

    [Fact]
    public async Task Ack_IdsNotLeasedToTheCaller_ReportedWhileTheOthersAreAcked()
    {
        var queue = NewQueue();
        Send(queue, "c");
        Send(queue, "c");
        var mine = (await queue.ReceiveAsync(Leased("c", limit: 1, owner: "ws:a"), Ct)).Messages.Single();
        var theirs = (await queue.ReceiveAsync(Leased("c", limit: 1, owner: "ws:b"), Ct)).Messages.Single();
        var unknown = Guid.CreateVersion7().ToString("D");

        var result = queue.Ack("c", [mine.Id.ToString("D"), theirs.Id.ToString("D"), unknown, "not-a-guid"], "ws:a");

        Assert.Equal(1, result.Acked);
        Assert.Equal([theirs.Id.ToString("D"), unknown, "not-a-guid"], result.NotLeased);
        Assert.Equal([mine.Id.ToString("D")], queue.Ack("c", [mine.Id.ToString("D")], "ws:a").NotLeased);
        Assert.Equal(1, queue.Ack("c", [theirs.Id.ToString("D")], "ws:b").Acked);
        Assert.Equal(["x"], queue.Ack("unknown-channel", ["x"]).NotLeased);
    }

    [Fact]
    public async Task Ack_AfterTheLeaseEndedAndAnotherOwnerLeasedIt_ReportedAsNotLeased()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var first = (await queue.ReceiveAsync(Leased("c", ackTimeout: 5, owner: "ws:a"), Ct)).Messages.Single();
        Time.Advance(TimeSpan.FromSeconds(5));
        var again = (await queue.ReceiveAsync(Leased("c", owner: "ws:b"), Ct)).Messages.Single();

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(1, again.DeliveryCount);
        Assert.Equal([first.Id.ToString("D")], queue.Ack("c", [first.Id.ToString("D")], "ws:a").NotLeased);
        Assert.Equal(1, queue.Ack("c", [again.Id.ToString("D")], "ws:b").Acked);
    }

    [Fact]
    public async Task Lease_Ends_ReturnsToTheHeadInSeqOrderWithDeliveryCountPlusOneWithoutASweep()
    {
        var queue = NewQueue();
        for (var i = 0; i < 4; i++)
        {
            Send(queue, "c");
        }

        var leased = await queue.ReceiveAsync(Leased("c", limit: 2, ackTimeout: 10), Ct);
        Send(queue, "c");
        Time.Advance(TimeSpan.FromSeconds(9.999));
        Assert.Equal([3L, 4L, 5L], Seqs(Take(queue, "c", peek: true)));

        Time.Advance(TimeSpan.FromMilliseconds(1));

        var backlog = Take(queue, "c", peek: true);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Seqs(backlog));
        Assert.Equal([1, 1, 0, 0, 0], backlog.Select(m => m.DeliveryCount));
        Assert.Equal(leased.Messages.Select(m => m.Id), backlog.Take(2).Select(m => m.Id));
        var figures = queue.GetStats().Channels["c"];
        Assert.Equal(new LeaseFigures(0, 2, 0, 2, 0), figures.Leases);
        Assert.Equal(5, figures.Messages);
        Assert.Equal(5, figures.Sent);
    }

    [Fact]
    public async Task Lease_EndsAfterMaxDeliveries_MovesToTheDeadChannelWithTheReason()
    {
        var queue = NewQueue(new QueueOptions { MaxDeliveries = 2 });
        var original = Send(queue, "jobs", "{\"task\":\"Zoë\"}", type: "task");
        for (var i = 0; i < 2; i++)
        {
            var leased = await queue.ReceiveAsync(Leased("jobs", ackTimeout: 1), Ct);
            Assert.Equal(i, leased.Messages.Single().DeliveryCount);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Empty(Take(queue, "jobs"));
        var dead = Take(queue, "jobs.dead").Single();
        Assert.Equal("task", dead.Type);
        Assert.Equal(
            $"{{\"reason\":\"max_deliveries\",\"channel\":\"jobs\",\"message_id\":\"{original.Id:D}\",\"seq\":1,\"delivery_count\":2,\"payload\":{{\"task\":\"Zoë\"}}}}",
            dead.Payload.ToString());
        var stats = queue.GetStats();
        Assert.Equal(new LeaseFigures(0, 2, 0, 1, 1), stats.Channels["jobs"].Leases);
        Assert.Equal(1, stats.Channels["jobs.dead"].Sent);
        Assert.Equal(new LeaseFigures(0, 2, 0, 1, 1), stats.Leases);
    }

    [Fact]
    public async Task Lease_ChannelNameAtTheLimit_DeadLettersToTheCutName()
    {
        var queue = NewQueue(new QueueOptions { MaxDeliveries = 1 });
        var name = new string('n', 128);
        Send(queue, name);
        await queue.ReceiveAsync(Leased(name, ackTimeout: 1), Ct);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Single(Take(queue, new string('n', 123) + ".dead"));
    }

    [Fact]
    public async Task UnsubscribeOwner_WithLeasesOut_ReleasesThemAtOnceAsADelivery()
    {
        var queue = NewQueue();
        Send(queue, "c");
        Send(queue, "c");
        await queue.ReceiveAsync(Leased("c", limit: 1, owner: "mcp:s1"), Ct);
        await queue.ReceiveAsync(Leased("c", limit: 1, owner: "mcp:s2"), Ct);

        queue.UnsubscribeOwner("mcp:s1");

        var back = Take(queue, "c", peek: true).Single();
        Assert.Equal(1, back.Seq);
        Assert.Equal(1, back.DeliveryCount);
        Assert.Equal(new LeaseFigures(1, 2, 0, 1, 0), queue.GetStats().Leases);
    }

    [Fact]
    public async Task PutBack_LeasedTake_ReturnsTheMessagesWithoutCountingADelivery()
    {
        var queue = NewQueue();
        Send(queue, "c");
        Send(queue, "c");
        var leased = await queue.ReceiveAsync(Leased("c"), Ct);
        Assert.NotNull(leased.Source);

        Assert.Equal(new PutBackResult(2, 0, 0), queue.PutBack(leased));

        var back = Take(queue, "c", peek: true);
        Assert.Equal([1L, 2L], Seqs(back));
        Assert.All(back, m => Assert.Equal(0, m.DeliveryCount));
        Assert.Equal(LeaseFigures.None, queue.GetStats().Leases);
        Assert.Equal(2, queue.Ack("c", Ids(leased.Messages)).NotLeased.Count);
    }

    [Fact]
    public async Task ReceiveAsync_BlockingWithAckTimeout_WokenByARedelivery()
    {
        var queue = NewQueue();
        Send(queue, "c");
        await queue.ReceiveAsync(Leased("c", ackTimeout: 5), Ct);
        var waiting = queue.ReceiveAsync(Leased("c", ackTimeout: 5) with { Blocking = true, TimeoutSeconds = 60 }, Ct).AsTask();
        Assert.False(waiting.IsCompleted);

        Time.Advance(TimeSpan.FromSeconds(5));

        var got = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(1, got.Messages.Single().DeliveryCount);
        Assert.Equal(new LeaseFigures(1, 2, 0, 1, 0), queue.GetStats().Leases);
    }

    [Fact]
    public async Task Lease_TtlPassesWhileLeased_AckStillCountsAndAnUnackedOneExpires()
    {
        var queue = NewQueue();
        Send(queue, "c", ttl: 2);
        Send(queue, "c", ttl: 2);
        var leased = (await queue.ReceiveAsync(Leased("c", ackTimeout: 10), Ct)).Messages;
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(1, queue.Ack("c", [leased[0].Id.ToString("D")]).Acked);
        Time.Advance(TimeSpan.FromSeconds(7));

        Assert.Empty(Take(queue, "c"));
        var stats = queue.GetStats();
        Assert.Equal((2L, 1L, 1L, 0L), (stats.MessagesSent, stats.MessagesConsumed, stats.MessagesExpired, stats.MessagesDropped));
        Assert.Equal(new LeaseFigures(0, 2, 1, 0, 0), stats.Leases);
    }

    [Fact]
    public async Task Lease_BacklogFilledWhileLeased_TheReturnDropsTheOldest()
    {
        var queue = NewQueue(new QueueOptions { ChannelCapacity = 2 });
        Send(queue, "c");
        await queue.ReceiveAsync(Leased("c", ackTimeout: 1), Ct);
        Send(queue, "c");
        Send(queue, "c");
        Assert.Equal(0, queue.GetStats().Channels["c"].Dropped);

        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([2L, 3L], Seqs(Take(queue, "c", peek: true)));
        var figures = queue.GetStats().Channels["c"];
        Assert.Equal(1, figures.Dropped);
        Assert.Equal(figures.Sent, figures.Messages + figures.Consumed + figures.Expired + figures.Dropped + figures.Leases.InFlight + figures.Leases.DeadLettered);
    }

    [Fact]
    public async Task Sweep_ChannelHoldingOnlyLeasedMessages_IsNotRemoved()
    {
        var queue = NewQueue();
        Send(queue, "c");
        var leased = await queue.ReceiveAsync(Leased("c", ackTimeout: 600), Ct);

        queue.Sweep();

        Assert.Equal(["c"], queue.ListChannels().Select(c => c.Name));
        Assert.Equal(1, queue.Ack("c", Ids(leased.Messages)).Acked);
        queue.Sweep();
        Assert.Empty(queue.ListChannels());
        Assert.Equal(new LeaseFigures(0, 1, 1, 0, 0), queue.GetStats().Leases);
    }

    [Fact]
    public async Task Lease_LeasedBytes_StayCountedAgainstTheByteCap()
    {
        var queue = NewQueue(new QueueOptions { MaxTotalBytes = 10 });
        Send(queue, "c", "\"12345678\"");
        await queue.ReceiveAsync(Leased("c"), Ct);

        Assert.Equal(10, queue.GetStats().TotalBytes);
        AssertRefused(QueueErrorCodes.QueueFull, null, "", () => Send(queue, "c", "1"));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(3601)]
    [InlineData(double.NaN)]
    public async Task ReceiveAsync_AckTimeoutOutOfRange_RefusedNamingTheField(double seconds)
    {
        var queue = NewQueue();
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "ack_timeout", "ack_timeout must be a number of seconds between 1 and 3600", async () => await queue.ReceiveAsync(Leased("c", ackTimeout: seconds), Ct));
    }

    [Fact]
    public async Task ReceiveAsync_AckTimeoutWithPeekOrSubscription_Refused()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("c");
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "ack_timeout", "peek", async () => await queue.ReceiveAsync(Leased("c") with { Peek = true }, Ct));
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "ack_timeout", "subscription_id", async () => await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, AckTimeoutSeconds = 5 }, Ct));
    }

    [Fact]
    public void Ack_NoOrTooManyIds_RefusedNamingMessageIds()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "message_ids", "message_ids must be a list of 1 to 1000 message ids", () => queue.Ack("c", []));
        AssertRefused(QueueErrorCodes.InvalidArgument, "message_ids", "1 to 1000", () => queue.Ack("c", [.. Enumerable.Repeat("x", 1001)]));
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "channel must be", () => queue.Ack("bad name", ["x"]));
    }
}
