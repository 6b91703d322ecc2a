using BenchmarkDotNet.Attributes;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Issue 13 point 2: a send must not get slower with the number of wildcard subscriptions that do not match its channel,
/// because patterns are matched when a channel is made or a pattern subscribed, never on a send. Compares a send to a full
/// channel (1,000 of 1,000, so each send also evicts) with no pattern subscription (the baseline) against the same send
/// with 1,000 open pattern subscriptions of which none matches the channel.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PatternSendBenchmarks
{
    private const string Channel = "bench.send";
    private const int Capacity = 1_000;
    private const int Patterns = 1_000;
    private IMessageQueue _plain = null!;
    private IMessageQueue _withPatterns = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options(Capacity) with { MaxSubscriptionsPerOwner = Patterns };
        _plain = MessageQueue.CreateInMemory(options);
        _withPatterns = MessageQueue.CreateInMemory(options);
        for (var i = 0; i < Patterns; i++)
        {
            // Half '*' and half '>' patterns, none matching bench.send.
            _withPatterns.Subscribe(i % 2 == 0 ? $"app{i}.*" : $"bench.send.p{i}.>");
        }

        for (var i = 0; i < Capacity; i++)
        {
            _plain.Send(Channel, BenchData.SmallDraft);
            _withPatterns.Send(Channel, BenchData.SmallDraft);
        }

        if (_withPatterns.Send(Channel, BenchData.SmallDraft).DeliveredTo != 0)
        {
            throw new InvalidOperationException("a pattern matched the benchmark's channel");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _withPatterns.Dispose();
    }

    [Benchmark(Baseline = true, Description = "send, no pattern subscription")]
    public QueueMessage SendWithoutPatterns() => _plain.Send(Channel, BenchData.SmallDraft).Message;

    [Benchmark(Description = "send, 1,000 non-matching pattern subscriptions")]
    public QueueMessage SendWithNonMatchingPatterns() => _withPatterns.Send(Channel, BenchData.SmallDraft).Message;
}
