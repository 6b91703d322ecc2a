using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Receive (consume) 10 messages from a channel holding at least 1,000, engine against the single-lock
/// baseline, measured two ways because a consuming receive empties what it measures:
/// <list type="bullet">
/// <item><c>receive 10</c>: the receive alone. Before each iteration of 16,384 receives,
/// <c>IterationSetup</c> (not measured) refills the backlog to 1,000 + 10 × 16,384, so it drains back to
/// exactly 1,000 by the end. A receive's work does not depend on the backlog's length (a ring buffer);
/// the larger backlog only makes memory locality worse than in a 1,000-message backlog, so this figure
/// errs on the slow side.</item>
/// <item><c>send 10 + receive 10</c>: the steady state, refilled inside the operation: the backlog goes
/// 1,000 → 1,010 → 1,000 and never evicts.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
[InvocationCount(Invocations)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ReceiveBenchmarks
{
    private const int Invocations = 16_384;
    private const string Channel = "bench.receive";
    private const int Backlog = 1_000;
    private readonly List<QueueMessage> _into = new(16);
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options(Backlog + (10 * Invocations));
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        for (var i = 0; i < Backlog; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
            _mutex.Send(Channel, BenchData.SmallDraft);
        }
    }

    [IterationSetup(Targets = [nameof(MutexReceive10), nameof(EngineReceive10)])]
    public void Refill()
    {
        Fill(_queue.GetStats().Channels[Channel].Messages, m => _queue.Send(Channel, m));
        Fill(_mutex.GetStats().Channels[Channel].Messages, m => _mutex.Send(Channel, m));
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [BenchmarkCategory("receive 10")]
    [Benchmark(Baseline = true, Description = "mutex store: receive 10 of >= 1,000")]
    public int MutexReceive10()
    {
        _into.Clear();
        return _mutex.Receive(Channel, 10, peek: false, _into);
    }

    [BenchmarkCategory("receive 10")]
    [Benchmark(Description = "engine: receive 10 of >= 1,000")]
    public int EngineReceive10()
    {
        _into.Clear();
        return _queue.Receive(Channel, 10, peek: false, _into);
    }

    [BenchmarkCategory("send 10 + receive 10")]
    [Benchmark(Baseline = true, Description = "mutex store: send 10 + receive 10 of 1,000")]
    public int MutexSend10Receive10()
    {
        for (var i = 0; i < 10; i++)
        {
            _mutex.Send(Channel, BenchData.SmallDraft);
        }

        _into.Clear();
        return _mutex.Receive(Channel, 10, peek: false, _into);
    }

    [BenchmarkCategory("send 10 + receive 10")]
    [Benchmark(Description = "engine: send 10 + receive 10 of 1,000")]
    public int EngineSend10Receive10()
    {
        for (var i = 0; i < 10; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
        }

        _into.Clear();
        return _queue.Receive(Channel, 10, peek: false, _into);
    }

    /// <summary>Brings a backlog of <paramref name="current"/> messages to exactly 1,000 + 10 per invocation.</summary>
    private static void Fill(int current, Action<MessageDraft> send)
    {
        var target = Backlog + (10 * Invocations);
        for (var i = current; i < target; i++)
        {
            send(BenchData.SmallDraft);
        }
    }
}
