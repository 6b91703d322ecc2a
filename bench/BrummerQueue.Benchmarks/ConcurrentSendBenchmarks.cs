using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Two threads sending at once, <see cref="SendsPerThread"/> sends each per operation; figures are per
/// operation (BenchmarkDotNet needs a constant for a per-send figure: divide by 2 × SendsPerThread). With <see cref="Channels"/> = 2 each thread sends to its own channel (the engine's locks are per
/// channel, the baseline's lock is global); with 1 both send to the same channel, which any design
/// with ordered per-channel seqs must serialize. Backlogs are full (1,000), so every send also evicts.
/// Engine against the single-lock baseline. Each operation forks the second thread with
/// <see cref="Parallel.Invoke(Action[])"/> and joins it: with 5,000 sends (about 0.3 ms of work per
/// thread) waking the pool thread is a visible part of the operation and the two threads overlap only
/// partly; 50,000 sends measure two threads that really send at the same time.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class ConcurrentSendBenchmarks
{
    private const int Capacity = 1_000;
    private static readonly string[] s_names = ["bench.concurrent.0", "bench.concurrent.1"];
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [Params(1, 2)]
    public int Channels { get; set; }

    [Params(5_000, 50_000)]
    public int SendsPerThread { get; set; }

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

    [Benchmark(Baseline = true, Description = "mutex store: 2 threads sending")]
    public void MutexConcurrentSend() => Parallel.Invoke(
        () => MutexSendMany(s_names[0]),
        () => MutexSendMany(s_names[Channels - 1]));

    [Benchmark(Description = "engine: 2 threads sending")]
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
