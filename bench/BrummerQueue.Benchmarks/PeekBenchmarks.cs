using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Peek 10 (read without removing) from a channel holding 1,000 messages, into a pre-sized list;
/// the backlog does not change, so no refill is needed. Engine against the single-lock baseline.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PeekBenchmarks
{
    private const string Channel = "bench.peek";
    private readonly List<QueueMessage> _into = new(16);
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options();
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        for (var i = 0; i < 1_000; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
            _mutex.Send(Channel, BenchData.SmallDraft);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: peek 10 of 1,000")]
    public int MutexPeek10()
    {
        _into.Clear();
        return _mutex.Receive(Channel, 10, peek: true, _into);
    }

    [Benchmark(Description = "engine: peek 10 of 1,000")]
    public int EnginePeek10()
    {
        _into.Clear();
        return _queue.Receive(Channel, 10, peek: true, _into);
    }
}
