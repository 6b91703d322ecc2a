using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Diagnostic for <see cref="HighContentionBenchmarks"/>: one full stats call on one thread, over the same
/// 10 channels (each holding 5 messages), engine against the single-lock baseline building the same
/// figures. Isolates what the stats step of a contention round costs before any contention.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class StatsBenchmarks
{
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options();
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        for (var channel = 0; channel < 10; channel++)
        {
            for (var i = 0; i < 5; i++)
            {
                _queue.Send($"bench.stats.{channel}", BenchData.SmallDraft);
                _mutex.Send($"bench.stats.{channel}", BenchData.SmallDraft);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: stats of 10 channels")]
    public QueueStats MutexStats() => _mutex.GetStats();

    [Benchmark(Description = "engine: stats of 10 channels")]
    public QueueStats EngineStats() => _queue.GetStats();
}
