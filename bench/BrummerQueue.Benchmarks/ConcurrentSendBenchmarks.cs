using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Two threads sending at once, 5,000 sends each per operation; figures are per send. With
/// <see cref="Channels"/> = 2 each thread sends to its own channel (the engine's locks are per
/// channel, the baseline's lock is global); with 1 both send to the same channel, which any design
/// with ordered per-channel seqs must serialize. Backlogs are full (1,000), so every send also evicts.
/// Engine against the single-lock baseline.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class ConcurrentSendBenchmarks
{
    private const int SendsPerThread = 5_000;
    private const int Capacity = 1_000;
    private static readonly string[] s_names = ["bench.concurrent.0", "bench.concurrent.1"];
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [Params(1, 2)]
    public int Channels { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options(Capacity);
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        foreach (var name in s_names)
        {
            for (var i = 0; i < Capacity; i++)
            {
                _queue.Send(name, BenchData.SmallDraft);
                _mutex.Send(name, BenchData.SmallDraft);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * SendsPerThread, Description = "mutex store: 2 threads sending")]
    public void MutexConcurrentSend() => Parallel.Invoke(
        () => MutexSendMany(s_names[0]),
        () => MutexSendMany(s_names[Channels - 1]));

    [Benchmark(OperationsPerInvoke = 2 * SendsPerThread, Description = "engine: 2 threads sending")]
    public void EngineConcurrentSend() => Parallel.Invoke(
        () => EngineSendMany(s_names[0]),
        () => EngineSendMany(s_names[Channels - 1]));

    private void MutexSendMany(string channel)
    {
        for (var i = 0; i < SendsPerThread; i++)
        {
            _mutex.Send(channel, BenchData.SmallDraft);
        }
    }

    private void EngineSendMany(string channel)
    {
        for (var i = 0; i < SendsPerThread; i++)
        {
            _queue.Send(channel, BenchData.SmallDraft);
        }
    }
}
