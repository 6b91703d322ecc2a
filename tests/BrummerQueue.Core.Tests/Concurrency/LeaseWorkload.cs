using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Core.Tests.Concurrency;

/// <summary>
/// Issue 13 point 4: N producers × M consumers sharing a work queue through leased receives, with random crashes before
/// the ack: a consumer either ends its owner (as a session or socket that dies) or walks away and lets the lease time out.
/// Checks that every message was acked exactly once or dead-lettered exactly once, never lost, and that the stats agree.
/// Time is a <see cref="FakeTimeProvider"/> that consumers with nothing to do move forward by a second (so abandoned leases
/// end); nothing sleeps. Used by the in-memory test and, unchanged, by the Redis one.
/// </summary>
public static class LeaseWorkload
{
    /// <summary>The channel the workload uses.</summary>
    public const string Channel = "work";

    /// <summary>Runs the workload on <paramref name="queue"/> (made with <paramref name="time"/>) and asserts its outcome.</summary>
    public static Task RunAsync(IMessageQueue queue, FakeTimeProvider time, int producers, int consumers, int perProducer, int seed, CancellationToken cancellationToken) =>
        RunAsync([queue], time, producers, consumers, perProducer, seed, cancellationToken);

    /// <summary>
    /// Runs the workload on <paramref name="nodes"/>, stores of one shared queue (Redis nodes) made with <paramref name="time"/>:
    /// producer and consumer <c>i</c> use node <c>i mod count</c>, so leases taken on one node end on another.
    /// </summary>
    public static async Task RunAsync(IReadOnlyList<IMessageQueue> nodes, FakeTimeProvider time, int producers, int consumers, int perProducer, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var queue = nodes[0];
        ArgumentNullException.ThrowIfNull(time);
        var total = producers * perProducer;
        var sent = new ConcurrentDictionary<Guid, byte>();
        var acked = new ConcurrentDictionary<Guid, int>();
        var crashes = 0;
        var producing = Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            var node = nodes[p % nodes.Count];
            for (var i = 0; i < perProducer; i++)
            {
                var message = node.Send(Channel, new MessageDraft("job", JsonPayload.Parse($"{{\"p\":{p},\"i\":{i}}}"), 0)).Message;
                sent[message.Id] = 0;
            }
        }, cancellationToken)).ToArray();

        var consuming = Enumerable.Range(0, consumers).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed + c);
            var node = nodes[c % nodes.Count];
            var generation = 0;
            for (var round = 0; round < 100_000; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var owner = $"consumer-{c}-{generation}";
                var taken = await node.ReceiveAsync(new ReceiveRequest { Channel = Channel, Limit = random.Next(1, 6), AckTimeoutSeconds = 5, Owner = owner }, cancellationToken);
                if (taken.Messages.Count == 0)
                {
                    if (producing.All(t => t.IsCompleted) && Done(queue, total))
                    {
                        return;
                    }

                    time.Advance(TimeSpan.FromSeconds(1));
                    await Task.Yield();
                    continue;
                }

                switch (random.Next(10))
                {
                    case 0:
                        // Crash: the session or socket ends, its leases are released at once.
                        node.UnsubscribeOwner(owner);
                        generation++;
                        Interlocked.Increment(ref crashes);
                        break;
                    case 1:
                        // Crash: the consumer vanishes; its leases end when their timeout passes.
                        generation++;
                        Interlocked.Increment(ref crashes);
                        break;
                    default:
                        var ids = taken.Messages.Select(m => m.Id.ToString("D")).ToArray();
                        var result = node.Ack(Channel, ids, owner);
                        foreach (var id in ids.Except(result.NotLeased))
                        {
                            acked.AddOrUpdate(Guid.Parse(id), 1, static (_, n) => n + 1);
                        }

                        Assert.Equal(ids.Length - result.NotLeased.Count, result.Acked);
                        break;
                }
            }

            Assert.Fail($"consumer {c} did not finish within its round bound");
        }, cancellationToken)).ToArray();

        await Task.WhenAll(producing.Concat(consuming));

        var dead = new List<QueueMessage>();
        queue.Receive(DeadLetters.ChannelFor(Channel), ReceiveRequest.MaxLimit, peek: false, dead);
        while (dead.Count % ReceiveRequest.MaxLimit == 0 && queue.Receive(DeadLetters.ChannelFor(Channel), ReceiveRequest.MaxLimit, peek: false, dead) > 0)
        {
        }

        var deadIds = dead.Select(m => Guid.Parse(JsonDocument.Parse(m.Payload.ToString()).RootElement.GetProperty("message_id").GetString()!)).ToList();
        Assert.All(acked, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(deadIds.Count, deadIds.Distinct().Count());
        Assert.Empty(deadIds.Intersect(acked.Keys));
        Assert.Equal(sent.Keys.Order(), acked.Keys.Concat(deadIds).Order());
        Assert.True(crashes > 0, "the workload crashed no consumer");

        var figures = queue.GetStats().Leases;
        Assert.Equal(acked.Count, figures.Acked);
        Assert.Equal(deadIds.Count, figures.DeadLettered);
        Assert.Equal(0, figures.InFlight);
        Assert.Equal(figures.Leased, figures.Acked + figures.Redelivered + figures.DeadLettered);
    }

    private static bool Done(IMessageQueue queue, int total)
    {
        var figures = queue.GetStats().Leases;
        return figures.Acked + figures.DeadLettered == total;
    }
}
