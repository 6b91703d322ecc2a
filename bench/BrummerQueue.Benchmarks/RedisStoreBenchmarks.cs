using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BrummerQueue.Core;
using BrummerQueue.Redis;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// The Redis store (docs/scale-out.md) beside the in-memory engine doing the same work, one caller, on a
/// <c>redis-server</c> this class starts on a free loopback port without persistence and stops by pid
/// (<see cref="RedisServerProcess"/>). <c>send</c>: to a full channel of 1,000, so every send also evicts the oldest
/// (as <see cref="SendBenchmarks"/>). <c>receive 10</c>: consume 10 from a backlog refilled before each iteration of
/// 1,024 receives (refill not measured; for Redis by 16 parallel senders on the multiplexer), as
/// <see cref="ReceiveBenchmarks"/>. <c>send async</c>: <c>send</c> through <see cref="IMessageQueue.SendAsync"/>, awaited.
/// Each Redis operation is one script call, so these are round-trip times.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
[InvocationCount(Invocations)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RedisStoreBenchmarks
{
    private const int Invocations = 1_024;
    private const string SendChannel = "bench.send";
    private const string ReceiveChannel = "bench.receive";
    private const int Backlog = 1_000;
    private readonly List<QueueMessage> _into = new(16);
    private RedisServerProcess _server = null!;
    private IMessageQueue _memory = null!;
    private IMessageQueue _redis = null!;
    private IMessageQueue _memoryReceive = null!;
    private IMessageQueue _redisReceive = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisServerProcess.Start();
        var options = BenchData.Options(Backlog) with { MaxTotalBytes = 1L << 30 };
        _memory = MessageQueue.CreateInMemory(options);
        _redis = RedisStore.Connect(_server.Configuration, options);
        var receiveOptions = options with { ChannelCapacity = Backlog + (10 * Invocations) };
        _memoryReceive = MessageQueue.CreateInMemory(receiveOptions);
        _redisReceive = RedisStore.Connect(_server.Configuration, receiveOptions, keyPrefix: "receive:");
        foreach (var queue in new[] { _memory, _redis })
        {
            for (var i = 0; i < Backlog; i++)
            {
                queue.Send(SendChannel, BenchData.SmallDraft);
            }
        }
    }

    [IterationSetup(Targets = [nameof(MemoryReceive10), nameof(RedisReceive10)])]
    public void Refill()
    {
        foreach (var queue in new[] { _memoryReceive, _redisReceive })
        {
            var missing = Backlog + (10 * Invocations) - (queue.ListChannels().FirstOrDefault(c => c.Name == ReceiveChannel)?.Messages ?? 0);
            Parallel.For(0, missing, new ParallelOptions { MaxDegreeOfParallelism = 16 }, _ => queue.Send(ReceiveChannel, BenchData.SmallDraft));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _redis.Dispose();
        _redisReceive.Dispose();
        _memory.Dispose();
        _memoryReceive.Dispose();
        _server.Dispose();
    }

    [BenchmarkCategory("send")]
    [Benchmark(Baseline = true, Description = "in-memory: send")]
    public QueueMessage MemorySend() => _memory.Send(SendChannel, BenchData.SmallDraft).Message;

    [BenchmarkCategory("send")]
    [Benchmark(Description = "redis: send")]
    public QueueMessage RedisSend() => _redis.Send(SendChannel, BenchData.SmallDraft).Message;

    [BenchmarkCategory("send async")]
    [Benchmark(Baseline = true, Description = "in-memory: SendAsync")]
    public async Task<QueueMessage> MemorySendAsync() => (await _memory.SendAsync(SendChannel, BenchData.SmallDraft)).Message;

    [BenchmarkCategory("send async")]
    [Benchmark(Description = "redis: SendAsync")]
    public async Task<QueueMessage> RedisSendAsync() => (await _redis.SendAsync(SendChannel, BenchData.SmallDraft)).Message;

    [BenchmarkCategory("receive 10")]
    [Benchmark(Baseline = true, Description = "in-memory: receive 10 of >= 1,000")]
    public int MemoryReceive10()
    {
        _into.Clear();
        return _memoryReceive.Receive(ReceiveChannel, 10, peek: false, _into);
    }

    [BenchmarkCategory("receive 10")]
    [Benchmark(Description = "redis: receive 10 of >= 1,000")]
    public int RedisReceive10()
    {
        _into.Clear();
        return _redisReceive.Receive(ReceiveChannel, 10, peek: false, _into);
    }
}
