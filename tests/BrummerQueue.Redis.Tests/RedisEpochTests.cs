using BrummerQueue.Core;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// Epochs and <c>recovered</c> in the Redis store (SPEC.md §1 "Epoch", "Resume"), made by the scripts when a channel's keys
/// are missing. The contract tests of the epochs work run against this store too once merged; these check the store's own side.
/// </summary>
public sealed class RedisEpochTests(RedisServerFixture redis) : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));
    private IMessageQueue? _queue;

    [Fact]
    public void Subscribe_SameEpochNothingMissing_RecoveredTrueAndReplaysAfterSinceSeq()
    {
        var queue = NewQueue();
        var first = Subscribe(queue, "c", null, null);
        Assert.Matches("^[a-z2-7]{8}$", first.Epoch);
        Assert.Null(first.Recovered);
        queue.Send("c", default);
        queue.Send("c", default);
        queue.Send("c", default);

        var resumed = Subscribe(queue, "c", 1, first.Epoch);
        Assert.Equal(first.Epoch, resumed.Epoch);
        Assert.True(resumed.Recovered);
        Assert.Equal([2L, 3L], Read(resumed));
    }

    [Fact]
    public void Subscribe_MessagesAfterSinceSeqConsumed_RecoveredFalse()
    {
        var queue = NewQueue();
        var epoch = Subscribe(queue, "c", null, null).Epoch;
        queue.Send("c", default);
        queue.Send("c", default);
        queue.Send("c", default);
        queue.Receive("c", 2, peek: false, new List<QueueMessage>());

        var resumed = Subscribe(queue, "c", 1, epoch);
        Assert.False(resumed.Recovered);
        Assert.Equal([3L], Read(resumed));
    }

    [Fact]
    public async Task Subscribe_ChannelRemovedAndRecreated_NewEpochWholeBacklogRecoveredFalse()
    {
        var queue = NewQueue();
        var old = queue.Send("c", default).Message;
        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c" }, TestContext.Current.CancellationToken);
        var oldEpoch = ((ChannelSource)taken.Source!).Epoch;
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);
        queue.Send("c", default);
        queue.Send("c", default);

        var withOldEpoch = Subscribe(queue, "c", old.Seq, oldEpoch);
        Assert.False(withOldEpoch.Recovered);
        Assert.NotEqual(oldEpoch, withOldEpoch.Epoch);
        Assert.Equal([1L, 2L], Read(withOldEpoch));

        // Without an epoch, a since_seq past the last seq counts as another epoch (SPEC.md §1 "Resume").
        var noEpoch = Subscribe(queue, "c", old.Seq + 4, null);
        Assert.False(noEpoch.Recovered);
        Assert.Equal([1L, 2L], Read(noEpoch));
    }

    public void Dispose() => _queue?.Dispose();

    private static RedisSubscription Subscribe(IMessageQueue queue, string channel, long? since, string? epoch) =>
        (RedisSubscription)queue.Subscribe(channel, new SubscribeOptions { SinceSeq = since, Epoch = epoch });

    private static long[] Read(Subscription subscription)
    {
        var list = new List<QueueMessage>();
        subscription.ReadBatch(100, list);
        return [.. list.Select(m => m.Seq)];
    }

    private IMessageQueue NewQueue()
    {
        redis.RequireServer();
        _queue = RedisStore.Create(redis.Connection, new QueueOptions { SweepInterval = TimeSpan.FromHours(1) }, _time, RedisServerFixture.FreshPrefix());
        return _queue;
    }
}
