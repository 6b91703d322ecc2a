using System.Globalization;

namespace BrummerQueue.Core.Tests.Concurrency;

/// <summary>
/// Many producers, consumers and subscription readers on real threads with the sweeper running
/// every millisecond. Checks exactly-once consumption by id, seq order and gap accounting on
/// subscriptions, and exact Stats at the end. Bounded in time; nothing sleeps.
/// </summary>
[Trait("Category", "Stress")]
public sealed class ConcurrencyTests
{
    private const int Producers = 4;
    private const int Consumers = 4;
    private const int PerProducer = 100_000;
    private const int Total = Producers * PerProducer;

    // Channels with subscriptions are never removed; channels without are removed by the sweeper
    // whenever consumers empty them, so sends race with channel removal and re-creation.
    private static readonly string[] s_subscribed = ["s0", "s1", "s2", "s3"];
    private static readonly string[] s_ephemeral = ["e0", "e1", "e2", "e3"];

    [Fact]
    public async Task ProducersConsumersSubscribers_ExactlyOnceInOrderAndExactStats()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        using var queue = MessageQueue.CreateInMemory(new QueueOptions
        {
            ChannelCapacity = Total,
            MaxTotalBytes = 1L << 30,
            SweepInterval = TimeSpan.FromMilliseconds(1),
            MaxSubscriptionBufferSize = Total,
        });
        var channels = s_subscribed.Concat(s_ephemeral).ToArray();
        var readers = s_subscribed
            .SelectMany(c => new[] { new SubscriptionReader(queue.Subscribe(c, new SubscribeOptions { BufferSize = Total })), new SubscriptionReader(queue.Subscribe(c, new SubscribeOptions { BufferSize = 16 })) })
            .ToArray();
        var readerTasks = readers.Select(r => Task.Run(() => r.RunAsync(ct), ct)).ToArray();

        var seen = new int[Total];
        var ids = new Guid[Total];
        var consumed = 0L;
        var producing = Producers;
        var producerTasks = Enumerable.Range(0, Producers).Select(p => Task.Run(
            () =>
            {
                try
                {
                    for (var i = 0; i < PerProducer; i++)
                    {
                        var id = (p * PerProducer) + i;
                        queue.Send(channels[(i + p) % channels.Length], new MessageDraft(Payload: JsonPayload.Parse(id.ToString(CultureInfo.InvariantCulture))));
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref producing);
                }
            },
            ct)).ToArray();
        var consumerTasks = Enumerable.Range(0, Consumers).Select(c => Task.Run(
            () =>
            {
                var batch = new List<QueueMessage>(32);
                var index = c;
                while (Interlocked.Read(ref consumed) < Total)
                {
                    ct.ThrowIfCancellationRequested();
                    batch.Clear();
                    queue.Receive(channels[index++ % channels.Length], 32, false, batch);
                    foreach (var message in batch)
                    {
                        var id = int.Parse(message.Payload.ToString(), CultureInfo.InvariantCulture);
                        Assert.Equal(0, Interlocked.Exchange(ref seen[id], 1));
                        ids[id] = message.Id;
                    }

                    Interlocked.Add(ref consumed, batch.Count);
                }
            },
            ct)).ToArray();

        await Task.WhenAll(producerTasks.Concat(consumerTasks));
        Assert.All(seen, s => Assert.Equal(1, s));
        Assert.Equal(Total, ids.Distinct().Count());

        foreach (var reader in readers)
        {
            reader.Stop();
        }

        await Task.WhenAll(readerTasks);
        var lastSeqs = queue.ListChannels().ToDictionary(c => c.Name, c => c.LastSeq);
        foreach (var reader in readers)
        {
            reader.DrainAndCheck(lastSeqs[reader.Channel]);
            reader.Dispose();
        }

        Assert.All(readers.Where(r => r.BufferSize == Total), r => Assert.Equal(0, r.Dropped));
        Assert.Contains(readers, r => r.Dropped > 0);

        var stats = queue.GetStats();
        Assert.Equal(Total, stats.MessagesSent);
        Assert.Equal(Total, stats.MessagesConsumed);
        Assert.Equal(0, stats.MessagesDropped);
        Assert.Equal(0, stats.MessagesExpired);
        Assert.Equal(0, stats.TotalMessages);
        Assert.Equal(0, stats.TotalBytes);
        Assert.Equal(readers.Length, stats.TotalSubscriptions);
        Assert.Equal(Total / channels.Length, s_subscribed.Sum(c => lastSeqs[c]) / s_subscribed.Length);
    }

    [Fact]
    public async Task BlockingReceive_CancelledAtRandomMoments_LosesNoMessage()
    {
        const int Messages = 3000;
        using var queue = MessageQueue.CreateInMemory();
        var received = new int[Messages];
        var sending = true;
        var receivers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (Volatile.Read(ref sending))
            {
                using var cts = new CancellationTokenSource();
                cts.CancelAfter(TimeSpan.FromTicks(random.Next(0, 20_000)));
                try
                {
                    var result = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c", Blocking = true, Limit = random.Next(1, 4), TimeoutSeconds = 1 }, cts.Token);
                    foreach (var message in result.Messages)
                    {
                        Interlocked.Increment(ref received[int.Parse(message.Payload.ToString(), CultureInfo.InvariantCulture)]);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        })).ToArray();

        var spin = new Random(42);
        for (var i = 0; i < Messages; i++)
        {
            queue.Send("c", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(CultureInfo.InvariantCulture))));
            Thread.SpinWait(spin.Next(0, 20_000));
        }

        Volatile.Write(ref sending, false);
        await Task.WhenAll(receivers).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var rest = new List<QueueMessage>();
        while (queue.Receive("c", 1000, false, rest) > 0)
        {
        }

        foreach (var message in rest)
        {
            received[int.Parse(message.Payload.ToString(), CultureInfo.InvariantCulture)]++;
        }

        Assert.All(received, count => Assert.Equal(1, count));
        Assert.Equal(Messages, queue.GetStats().MessagesConsumed);
    }

    [Fact]
    public async Task BlockingSubscriptionRead_CancelledAtRandomMoments_LosesNoMessage()
    {
        const int Messages = 3000;
        using var queue = MessageQueue.CreateInMemory();
        var subscription = queue.Subscribe("c", new SubscribeOptions { BufferSize = Messages });
        var received = new int[Messages];
        var sending = true;
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (Volatile.Read(ref sending))
            {
                using var cts = new CancellationTokenSource();
                cts.CancelAfter(TimeSpan.FromTicks(random.Next(0, 20_000)));
                try
                {
                    var result = await queue.ReceiveAsync(new ReceiveRequest { SubscriptionId = subscription.Id, Blocking = true, Limit = random.Next(1, 4), TimeoutSeconds = 1 }, cts.Token);
                    foreach (var message in result.Messages)
                    {
                        Interlocked.Increment(ref received[message.Seq - 1]);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        })).ToArray();

        var spin = new Random(7);
        for (var i = 0; i < Messages; i++)
        {
            queue.Send("c", default);
            Thread.SpinWait(spin.Next(0, 20_000));
        }

        Volatile.Write(ref sending, false);
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var rest = new List<QueueMessage>();
        Assert.Equal(0, subscription.ReadBatch(Messages, rest));
        foreach (var message in rest)
        {
            received[message.Seq - 1]++;
        }

        Assert.All(received, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task PutBack_RacingSendsReceiversAndCleanup_EveryMessageConsumedExactlyOnce()
    {
        const int Messages = 40_000;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;

        // The sweeper runs every millisecond, so a channel emptied by a take is often removed before the put-back.
        using var queue = MessageQueue.CreateInMemory(new QueueOptions { ChannelCapacity = Messages, SweepInterval = TimeSpan.FromMilliseconds(1) });
        var channels = new[] { "p0", "p1" };
        var seen = new int[Messages];
        var consumed = 0L;
        var putBack = 0L;
        var producer = Task.Run(
            () =>
            {
                for (var i = 0; i < Messages; i++)
                {
                    queue.Send(channels[i % channels.Length], new MessageDraft(Payload: JsonPayload.Parse(i.ToString(CultureInfo.InvariantCulture))));
                }
            },
            ct);
        var consumers = Enumerable.Range(0, Consumers).Select(c => Task.Run(
            async () =>
            {
                var random = new Random(c);
                while (Interlocked.Read(ref consumed) < Messages)
                {
                    ct.ThrowIfCancellationRequested();
                    var result = await queue.ReceiveAsync(new ReceiveRequest { Channel = channels[random.Next(channels.Length)], Limit = random.Next(1, 8) }, ct);
                    if (result.Messages.Count > 0 && random.Next(3) == 0)
                    {
                        // As a face does when its reply could not be delivered: the messages go back for the next receiver.
                        // A sweep in between often removes the channel the take emptied, so the put-back recreates it.
                        if (random.Next(2) == 0)
                        {
                            queue.Sweep();
                        }

                        Assert.Equal(result.Messages.Count, queue.PutBack(result).Restored);
                        Interlocked.Add(ref putBack, result.Messages.Count);
                        continue;
                    }

                    foreach (var message in result.Messages)
                    {
                        Assert.Equal(0, Interlocked.Exchange(ref seen[int.Parse(message.Payload.ToString(), CultureInfo.InvariantCulture)], 1));
                    }

                    Interlocked.Add(ref consumed, result.Messages.Count);
                }
            },
            ct)).ToArray();

        await Task.WhenAll(consumers.Append(producer));
        Assert.All(seen, s => Assert.Equal(1, s));
        Assert.True(Interlocked.Read(ref putBack) > 0);
        var stats = queue.GetStats();
        Assert.Equal(Messages, stats.MessagesSent);
        Assert.Equal(Messages, stats.MessagesConsumed);
        Assert.Equal(0, stats.MessagesDropped + stats.MessagesExpired + stats.TotalMessages + stats.TotalBytes);
    }
}
