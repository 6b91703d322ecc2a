using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Four workers over ten shared channels, each round: send one message to a channel, receive up to 5
/// from it, read the full stats. Figures are per round. Steady state: receives outpace sends, so
/// backlogs stay near empty and the channel set is fixed — the cost per round does not depend on how
/// long the run is. Engine against the single-lock baseline doing the same rounds.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class HighContentionBenchmarks
{
    private const int Workers = 4;
    private const int RoundsPerWorker = 1_000;
    private static readonly string[] s_names = [.. Enumerable.Range(0, 10).Select(i => $"bench.contention.{i}")];
    private readonly List<QueueMessage>[] _into = [.. Enumerable.Range(0, Workers).Select(_ => new List<QueueMessage>(8))];
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options();
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        foreach (var name in s_names)
        {
            _queue.Send(name, BenchData.SmallDraft);
            _mutex.Send(name, BenchData.SmallDraft);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Workers * RoundsPerWorker, Description = "mutex store: 4 workers x (send, receive 5, stats)")]
    public void MutexHighContention() => Parallel.For(0, Workers, MutexWorker);

    [Benchmark(OperationsPerInvoke = Workers * RoundsPerWorker, Description = "engine: 4 workers x (send, receive 5, stats)")]
    public void EngineHighContention() => Parallel.For(0, Workers, EngineWorker);

    private void MutexWorker(int worker)
    {
        var into = _into[worker];
        for (var round = 0; round < RoundsPerWorker; round++)
        {
            var channel = s_names[(worker + round) % s_names.Length];
            _mutex.Send(channel, BenchData.SmallDraft);
            into.Clear();
            _mutex.Receive(channel, 5, peek: false, into);
            _mutex.GetStats();
        }
    }

    private void EngineWorker(int worker)
    {
        var into = _into[worker];
        for (var round = 0; round < RoundsPerWorker; round++)
        {
            var channel = s_names[(worker + round) % s_names.Length];
            _queue.Send(channel, BenchData.SmallDraft);
            into.Clear();
            _queue.Receive(channel, 5, peek: false, into);
            _queue.GetStats();
        }
    }
}
