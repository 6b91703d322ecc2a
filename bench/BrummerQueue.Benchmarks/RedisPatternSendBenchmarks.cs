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
public class RedisPatternSendBenchmarks : PatternSendBenchmarkBase
{
    private RedisServerProcess _server = null!;

    [Benchmark(Baseline = true, Description = "redis: send, no pattern subscription")]
    public QueueMessage SendWithoutPatterns() => Plain.Send(Channel, BenchData.SmallDraft).Message;

    [Benchmark(Description = "redis: send, 1,000 non-matching pattern subscriptions")]
    public QueueMessage SendWithNonMatchingPatterns() => WithPatterns.Send(Channel, BenchData.SmallDraft).Message;

    protected override (IMessageQueue Plain, IMessageQueue WithPatterns) CreateStores()
    {
        _server = RedisServerProcess.Start();
        var options = BenchData.Options(Backlog) with { MaxTotalBytes = 1L << 30 };
        return (RedisStore.Connect(_server.Configuration, options, keyPrefix: "plain:"),
            RedisStore.Connect(_server.Configuration, options, keyPrefix: "patterns:"));
    }

    protected override void StopServer() => _server.Dispose();
}
