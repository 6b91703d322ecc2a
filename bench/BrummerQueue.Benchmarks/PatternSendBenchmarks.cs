using BenchmarkDotNet.Attributes;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Issue 13 point 2: a send must not get slower with the number of wildcard subscriptions that do not match its channel,
/// because patterns are matched when a channel is made or a pattern subscribed, never on a send. Compares a send to a full
/// channel (1,000 of 1,000, so each send also evicts) with no pattern subscription (the baseline) against the same send
/// with 1,000 open pattern subscriptions of which none matches the channel (<see cref="PatternSendBenchmarkBase"/>).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PatternSendBenchmarks : PatternSendBenchmarkBase
{
    [Benchmark(Baseline = true, Description = "send, no pattern subscription")]
    public QueueMessage SendWithoutPatterns() => Plain.Send(Channel, BenchData.SmallDraft).Message;

    [Benchmark(Description = "send, 1,000 non-matching pattern subscriptions")]
    public QueueMessage SendWithNonMatchingPatterns() => WithPatterns.Send(Channel, BenchData.SmallDraft).Message;

    protected override (IMessageQueue Plain, IMessageQueue WithPatterns) CreateStores()
    {
        var options = BenchData.Options(Backlog) with { MaxSubscriptionsPerOwner = 1_000 };
        return (MessageQueue.CreateInMemory(options), MessageQueue.CreateInMemory(options));
    }
}
