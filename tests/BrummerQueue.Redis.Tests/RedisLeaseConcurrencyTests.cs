using BrummerQueue.Core;
using BrummerQueue.Core.Tests.Concurrency;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// The shared work queue of issue 13 point 4 on two Redis nodes of one queue (<see cref="LeaseWorkload"/>): leases taken on one
/// node are ended (timed out) by whichever node gets there first, each counted once. Bounded in count and time.
/// </summary>
public sealed class RedisLeaseConcurrencyTests(RedisServerFixture redis)
{
    [Fact]
    public async Task TwoNodesProducersConsumersWithCrashes_EveryMessageAckedOrDeadLetteredExactlyOnce()
    {
        redis.RequireServer();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));
        var prefix = RedisServerFixture.FreshPrefix();
        var options = new QueueOptions { MaxDeliveries = 3 };
        using var first = RedisStore.Create(redis.Connection, options, time, prefix);
        using var second = RedisStore.Create(redis.Connection, options, time, prefix);

        await LeaseWorkload.RunAsync([first, second], time, producers: 2, consumers: 4, perProducer: 150, seed: 13, timeout.Token);
    }
}
