using System.Collections.Concurrent;
using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// Two store instances ("nodes"), each with its own connection, on one redis-server and one key prefix: SPEC.md §6's
/// rules across nodes (one seq per channel, consume at most once, pushes to subscribers on every node, equal stats).
/// </summary>
public sealed class TwoNodeTests(RedisServerFixture redis) : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _prefix = RedisServerFixture.FreshPrefix();
    private readonly List<IAsyncDisposable> _connections = [];
    private readonly List<IMessageQueue> _queues = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SendOnOneNode_SubscriptionOnTheOther_GetsEveryMessageInSeqOrder()
    {
        var (a, b) = await TwoNodesAsync();
        var subscription = a.Subscribe("c", new SubscribeOptions { BufferSize = 1000 });
        var woken = subscription.WaitToReadAsync(Ct).AsTask();
        Assert.False(woken.IsCompleted);

        for (var i = 1; i <= 300; i++)
        {
            b.Send("c", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        Assert.True(await woken.WaitAsync(s_wait, Ct));
        var seen = new List<QueueMessage>();
        while (seen.Count < 300)
        {
            var result = await a.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Limit = 1000, Blocking = true, TimeoutSeconds = 30 }, Ct);
            Assert.NotEmpty(result.Messages);
            Assert.Equal(0, result.Dropped);
            seen.AddRange(result.Messages);
        }

        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), seen.Select(m => m.Seq));
        Assert.Equal(Enumerable.Range(1, 300).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen.Select(m => m.Payload.ToString()));
    }

    [Fact]
    public async Task SubscribePatternOnOneNode_ChannelsMadeOnTheOther_WakesAndDeliversEachInSeqOrder()
    {
        var (a, b) = await TwoNodesAsync();
        b.Send("app.old", new MessageDraft());
        var subscription = a.Subscribe("app.>", new SubscribeOptions { BufferSize = 1000 });
        var woken = subscription.WaitToReadAsync(Ct).AsTask();
        Assert.False(woken.IsCompleted);
        b.Send("app.new.x", new MessageDraft());
        Assert.True(await woken.WaitAsync(s_wait, Ct));
        for (var i = 0; i < 20; i++)
        {
            b.Send(i % 2 == 0 ? "app.old" : "app.new.x", new MessageDraft());
            b.Send("web.other", new MessageDraft());
        }

        var seen = new List<QueueMessage>();
        while (seen.Count < 21)
        {
            var result = await a.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Limit = 1000, Blocking = true, TimeoutSeconds = 30 }, Ct);
            Assert.NotEmpty(result.Messages);
            seen.AddRange(result.Messages);
        }

        Assert.Equal(Enumerable.Range(2, 10).Select(i => (long)i), seen.Where(m => m.Channel == "app.old").Select(m => m.Seq));
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), seen.Where(m => m.Channel == "app.new.x").Select(m => m.Seq));
        Assert.True(b.Unsubscribe(subscription.Id));
        Assert.Equal(0, b.Send("app.old", new MessageDraft()).DeliveredTo);
    }

    [Fact]
    public async Task MessageStored_SendOnTheOtherNode_RaisedOnceWithTheWholeMessage()
    {
        var (a, b) = await TwoNodesAsync();
        var onA = new List<QueueMessage>();
        var onB = new List<QueueMessage>();
        var arrived = new TaskCompletionSource<QueueMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        a.MessageStored += m =>
        {
            lock (onA)
            {
                onA.Add(m);
            }

            arrived.TrySetResult(m);
        };
        b.MessageStored += onB.Add;

        var sent = b.Send("team/a:b.c", new MessageDraft(Type: "t", Payload: JsonPayload.Parse("""{"x":"ü"}"""), TtlSeconds: 60)).Message;
        var seen = await arrived.Task.WaitAsync(s_wait, Ct);

        // A second send from the node itself, whose own notification must not raise it again on that node.
        var arrivedAgain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.MessageStored += _ => arrivedAgain.TrySetResult();
        b.Send("team/a:b.c", new MessageDraft(Payload: JsonPayload.Parse("2")));
        await arrivedAgain.Task.WaitAsync(s_wait, Ct);

        Assert.Equal(sent.Id, seen.Id);
        Assert.Equal(("team/a:b.c", 1L, "t", """{"x":"ü"}""", sent.TimestampMs, 60), (seen.Channel, seen.Seq, seen.Type, seen.Payload.ToString(), seen.TimestampMs, seen.TtlSeconds));
        lock (onA)
        {
            Assert.Equal([1L, 2L], onA.Select(m => m.Seq));
        }

        Assert.Equal([1L, 2L], onB.Select(m => m.Seq));
    }

    [Fact]
    public async Task MessageStored_ManySendsAtOnceOnTheOtherNode_EachRaisedOnceInSeqOrder()
    {
        var (a, b) = await TwoNodesAsync();
        var onA = new List<QueueMessage>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.MessageStored += m =>
        {
            lock (onA)
            {
                onA.Add(m);
                if (onA.Count == 100)
                {
                    all.TrySetResult();
                }
            }
        };

        // Sent at once, so the store sends most of them in batches, each batch with one notification for all its messages.
        var sends = Enumerable.Range(1, 100).Select(i => b.SendAsync("c", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))), Ct).AsTask()).ToList();
        var sent = await Task.WhenAll(sends).WaitAsync(s_wait, Ct);
        await all.Task.WaitAsync(s_wait, Ct);

        lock (onA)
        {
            Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), onA.Select(m => m.Seq));
            Assert.Equal(sent.OrderBy(r => r.Message.Seq).Select(r => (r.Message.Id, r.Message.Payload.ToString())), onA.Select(m => (m.Id, m.Payload.ToString())));
        }
    }

    [Fact]
    public async Task MessageStored_SendToAQueueInAnotherDatabase_NotRaised()
    {
        var a = await NodeAsync(TimeProvider.System);
        var sameQueue = await NodeAsync(TimeProvider.System);
        var otherDatabase = await NodeAsync(TimeProvider.System, database: 1);
        var seen = new List<QueueMessage>();
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.MessageStored += m =>
        {
            lock (seen)
            {
                seen.Add(m);
            }

            if (m.Type == "marker")
            {
                marker.TrySetResult();
            }
        };

        // Pub/sub is not per database: the notification channels name it, so the queue in database 1 is not heard here.
        await otherDatabase.SendAsync("c", new MessageDraft(Type: "other"), Ct);
        await sameQueue.SendAsync("c", new MessageDraft(Type: "marker"), Ct);
        await marker.Task.WaitAsync(s_wait, Ct);

        lock (seen)
        {
            Assert.Equal(["marker"], seen.Select(m => m.Type));
        }

        Assert.Equal(1, a.GetStats().MessagesSent);
        Assert.Equal(1, otherDatabase.GetStats().MessagesSent);
    }

    [Fact]
    public async Task BlockingReceiveOnOneNode_SendOnTheOther_WakesIt()
    {
        var (a, b) = await TwoNodesAsync();
        var pending = a.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, TimeoutSeconds = 30 }, Ct).AsTask();
        Assert.False(pending.IsCompleted);
        var sent = b.Send("c", new MessageDraft(Payload: JsonPayload.Parse("\"hi\""))).Message;
        var received = Assert.Single((await pending.WaitAsync(s_wait, Ct)).Messages);
        Assert.Equal(sent.Id, received.Id);
        Assert.Equal("\"hi\"", received.Payload.ToString());
    }

    [Fact]
    public async Task CompetingConsumersOnBothNodes_ConsumeEveryMessageExactlyOnce()
    {
        var (a, b) = await TwoNodesAsync();
        const int PerProducer = 500;
        var ids = new ConcurrentBag<Guid>();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var consumers = new List<Task>();
        foreach (var node in new[] { a, b, a, b })
        {
            consumers.Add(Task.Run(
                async () =>
                {
                    while (!done.IsCancellationRequested)
                    {
                        ReceiveResult result;
                        try
                        {
                            result = await node.ReceiveAsync(new ReceiveRequest { Channel = "work", Limit = 7, Blocking = true, TimeoutSeconds = 1 }, done.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }

                        foreach (var message in result.Messages)
                        {
                            ids.Add(message.Id);
                        }
                    }
                },
                Ct));
        }

        var sent = new ConcurrentBag<Guid>();
        await Task.WhenAll(new[] { a, b }.Select(node => Task.Run(
            () =>
            {
                for (var i = 0; i < PerProducer; i++)
                {
                    sent.Add(node.Send("work", default).Message.Id);
                }
            },
            Ct)));

        // Bounded: every consumer is a blocking receive with a 1 s timeout; wait until all were consumed.
        var deadline = DateTime.UtcNow + s_wait;
        while (ids.Count < 2 * PerProducer && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        await done.CancelAsync();
        await Task.WhenAll(consumers).WaitAsync(s_wait, Ct);

        Assert.Equal(2 * PerProducer, ids.Count);
        Assert.Equal(sent.Order(), ids.Order());
        var stats = a.GetStats();
        Assert.Equal(2 * PerProducer, stats.MessagesSent);
        Assert.Equal(2 * PerProducer, stats.MessagesConsumed);
        Assert.Equal(0, stats.TotalMessages);
    }

    [Fact]
    public async Task StatsAndChannelLists_AreEqualOnBothNodes()
    {
        var (a, b) = await TwoNodesAsync();
        a.Send("x", default);
        b.Send("x", default);
        b.Send("y", new MessageDraft(TtlSeconds: 0));
        a.Subscribe("z");
        var taken = new List<QueueMessage>();
        b.Receive("x", 1, peek: false, taken);

        var fromA = a.GetStats();
        var fromB = b.GetStats();
        Assert.Equal(fromA.Channels, fromB.Channels);
        Assert.Equal(
            (fromA.TotalMessages, fromA.TotalChannels, fromA.TotalSubscriptions, fromA.TotalBytes, fromA.MessagesSent, fromA.MessagesConsumed),
            (fromB.TotalMessages, fromB.TotalChannels, fromB.TotalSubscriptions, fromB.TotalBytes, fromB.MessagesSent, fromB.MessagesConsumed));
        Assert.Equal((2L, 3, 1, 3L, 1L), (fromA.TotalMessages, fromA.TotalChannels, fromA.TotalSubscriptions, fromA.MessagesSent, fromA.MessagesConsumed));
        Assert.Equal(a.ListChannels(), b.ListChannels());
        Assert.Equal([("x", 1, 0, 2L), ("y", 1, 0, 1L), ("z", 0, 1, 0L)], a.ListChannels().Select(c => (c.Name, c.Messages, c.Subscriptions, c.LastSeq)));
        Assert.All(a.ListChannels(), c => Assert.Matches("^[a-z2-7]{8}$", c.Epoch));
    }

    [Fact]
    public async Task GetStats_SubscriptionsAndSendsOnBothNodes_DeliveredAndListedAlikeOnEach()
    {
        var (a, b) = await TwoNodesAsync();
        var onA = a.Subscribe("c", new SubscribeOptions { Owner = "ws-a" });
        var onB = b.Subscribe("c");
        a.Send("c", default);
        b.Send("c", default);
        b.Send("quiet", default);

        var fromA = a.GetStats();
        var fromB = b.GetStats();
        Assert.Equal((4L, 4L, 0L), (fromA.MessagesDelivered, fromA.Channels["c"].Delivered, fromA.Channels["quiet"].Delivered));
        Assert.Equal(fromA.MessagesDelivered, fromB.MessagesDelivered);
        Assert.Equal(fromA.Channels, fromB.Channels);
        Assert.Equal(new[] { onA.Id, onB.Id }.Order(StringComparer.Ordinal), fromA.Subscriptions.Select(s => s.Id).Order(StringComparer.Ordinal));
        Assert.Equal(fromA.Subscriptions, fromB.Subscriptions);
        Assert.All(fromA.Subscriptions, s => Assert.Equal(("c", 2, false), (s.Channel, s.Buffered, s.Reading)));
        Assert.Equal("ws-a", fromA.Subscriptions.Single(s => s.Id == onA.Id).Owner);
        Assert.Null(fromA.Subscriptions.Single(s => s.Id == onB.Id).Owner);

        // A reader waiting on node A shows as reading on node B too.
        Assert.True(onA.TryRead(out _) && onA.TryRead(out _));
        var waiting = onA.WaitToReadAsync(Ct).AsTask();
        await UntilAsync(() => b.GetStats().Subscriptions.Single(s => s.Id == onA.Id) is { Reading: true, IdleExpiresAt: null });
        Assert.False(waiting.IsCompleted);
        Assert.True(b.Unsubscribe(onA.Id));
        Assert.False(await waiting.WaitAsync(s_wait, Ct));
    }

    [Fact]
    public async Task SubscriptionMadeOnOneNode_IsReadAndEndedOnTheOther()
    {
        var (a, b) = await TwoNodesAsync();
        var made = a.Subscribe("c", new SubscribeOptions { Owner = "ws-1" });
        a.Send("c", default);
        Assert.True(b.TryGetSubscription(made.Id, out var there));
        Assert.Equal(("c", 100), (there.Channel, there.BufferSize));
        Assert.True(there.TryRead(out var message));
        Assert.Equal(1, message.Seq);

        var closing = made.WaitToReadAsync(Ct).AsTask();
        Assert.Equal(1, b.UnsubscribeOwner("ws-1"));
        Assert.False(await closing.WaitAsync(s_wait, Ct));
        Assert.True(made.IsClosed);
        Assert.False(a.TryGetSubscription(made.Id, out _));
        Assert.Equal(0, a.GetStats().TotalSubscriptions);
    }

    [Fact]
    public async Task SweepOnBothNodes_CountsEachExpiredMessageOnce()
    {
        var (a, b) = await TwoNodesAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var c = await NodeAsync(time);
        var d = await NodeAsync(time);
        for (var i = 0; i < 50; i++)
        {
            c.Send("e", new MessageDraft(TtlSeconds: 1));
        }

        time.Advance(TimeSpan.FromSeconds(2));
        var sweeps = await Task.WhenAll(Task.Run(c.Sweep, Ct), Task.Run(d.Sweep, Ct));
        Assert.Equal(50, sweeps.Sum(s => s.ExpiredMessages));
        Assert.Equal(1, sweeps.Sum(s => s.ChannelsRemoved));
        Assert.Equal(50, a.GetStats().MessagesExpired);
        Assert.Equal(50, b.GetStats().MessagesExpired);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Dispose();
        }

        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>Asks <paramref name="condition"/> until it holds; bounded by <see cref="s_wait"/>, one try per 20 ms.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not true within {s_wait}");
            await Task.Delay(20, Ct);
        }
    }

    private async Task<(IMessageQueue A, IMessageQueue B)> TwoNodesAsync() => (await NodeAsync(TimeProvider.System), await NodeAsync(TimeProvider.System));

    private async Task<IMessageQueue> NodeAsync(TimeProvider time, int database = 0)
    {
        redis.RequireServer();
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",defaultDatabase=" + database.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _connections.Add(connection);
        var queue = RedisStore.Create(connection, new QueueOptions(), time, _prefix);
        _queues.Add(queue);
        return queue;
    }
}
