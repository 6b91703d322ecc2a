using BenchmarkDotNet.Attributes;
using BrummerQueue.Core;
using BrummerQueue.Redis;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// <see cref="PatternSendBenchmarks"/> on the Redis store: a send (one script call, one round trip) to a full channel of
/// 1,000 with no pattern subscription (baseline) and with 1,000 open pattern subscriptions, none matching, on a
/// <c>redis-server</c> this class starts on a free loopback port and stops by pid (<see cref="RedisServerProcess"/>).
/// The send script reads only its own channel's matches, so the two should not differ.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class RedisPatternSendBenchmarks
{
    private const string Channel = "bench.send";
    private const int Backlog = 1_000;
    private const int Patterns = 1_000;
    private RedisServerProcess _server = null!;
    private IMessageQueue _plain = null!;
    private IMessageQueue _withPatterns = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisServerProcess.Start();
        var options = BenchData.Options(Backlog) with { MaxTotalBytes = 1L << 30 };
        _plain = RedisStore.Connect(_server.Configuration, options, keyPrefix: "plain:");
        _withPatterns = RedisStore.Connect(_server.Configuration, options, keyPrefix: "patterns:");
        for (var i = 0; i < Patterns; i++)
        {
            _withPatterns.Subscribe(i % 2 == 0 ? $"app{i}.*" : $"bench.send.p{i}.>");
        }

        for (var i = 0; i < Backlog; i++)
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
        _server.Dispose();
    }

    [Benchmark(Baseline = true, Description = "redis: send, no pattern subscription")]
    public QueueMessage SendWithoutPatterns() => _plain.Send(Channel, BenchData.SmallDraft).Message;

    [Benchmark(Description = "redis: send, 1,000 non-matching pattern subscriptions")]
    public QueueMessage SendWithNonMatchingPatterns() => _withPatterns.Send(Channel, BenchData.SmallDraft).Message;
}
