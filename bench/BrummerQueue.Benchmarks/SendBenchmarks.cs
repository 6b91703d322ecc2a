using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// One send of a small JSON payload to one channel whose backlog is full (1,000 of 1,000), so
/// every send also evicts the oldest message and the backlog stays bounded however long the run.
/// Compares the engine with the single-lock baseline store doing the same work.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class SendBenchmarks
{
    private const string Channel = "bench.send";
    private const int Capacity = 1_000;
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options(Capacity);
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        for (var i = 0; i < Capacity; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
            _mutex.Send(Channel, BenchData.SmallDraft);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: send")]
    public QueueMessage MutexSend() => _mutex.Send(Channel, BenchData.SmallDraft).Message;

    [Benchmark(Description = "engine: send")]
    public QueueMessage EngineSend() => _queue.Send(Channel, BenchData.SmallDraft).Message;
}
