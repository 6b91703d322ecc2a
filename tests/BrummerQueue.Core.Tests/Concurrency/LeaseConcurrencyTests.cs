using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Core.Tests.Concurrency;

/// <summary>The shared work queue of issue 13 point 4 on the in-memory store (<see cref="LeaseWorkload"/>).</summary>
public sealed class LeaseConcurrencyTests
{
    [Fact]
    public async Task ProducersConsumersWithCrashes_EveryMessageAckedOrDeadLetteredExactlyOnce()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));
        using var queue = MessageQueue.CreateInMemory(new QueueOptions { MaxDeliveries = 3 }, time);

        await LeaseWorkload.RunAsync(queue, time, producers: 4, consumers: 4, perProducer: 2_000, seed: 13, timeout.Token);
    }
}
