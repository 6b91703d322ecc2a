using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Diagnostic for <see cref="ConcurrentSendBenchmarks"/>: where does two-thread sending stop scaling?
/// All variants send 2 × 5,000 messages to two full channels; figures are per send. The baseline is one
/// thread doing all of them on one engine. The others use two threads: on one engine (shared byte budget,
/// shared channel map), on two separate engines (sharing only process-wide state: the id generator's
/// counter and the clock), and on two separate single-lock stores (no lock shared at all: the scaling
/// ceiling of this work on this machine).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class SendScalingBenchmarks
{
    private const int SendsPerThread = 5_000;
    private const int Capacity = 1_000;
    private const string First = "bench.scaling.0";
    private const string Second = "bench.scaling.1";
    private IMessageQueue _shared = null!;
    private IMessageQueue _ownA = null!;
    private IMessageQueue _ownB = null!;
    private MutexMessageStore _mutexA = null!;
    private MutexMessageStore _mutexB = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options(Capacity);
        _shared = MessageQueue.CreateInMemory(options);
        _ownA = MessageQueue.CreateInMemory(options);
        _ownB = MessageQueue.CreateInMemory(options);
        _mutexA = new MutexMessageStore(options, TimeProvider.System);
        _mutexB = new MutexMessageStore(options, TimeProvider.System);
        for (var i = 0; i < Capacity; i++)
        {
            _shared.Send(First, BenchData.SmallDraft);
            _shared.Send(Second, BenchData.SmallDraft);
            _ownA.Send(First, BenchData.SmallDraft);
            _ownB.Send(Second, BenchData.SmallDraft);
            _mutexA.Send(First, BenchData.SmallDraft);
            _mutexB.Send(Second, BenchData.SmallDraft);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _shared.Dispose();
        _ownA.Dispose();
        _ownB.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * SendsPerThread, Description = "engine, 1 thread, 2 channels")]
    public void OneThread()
    {
        SendMany(_shared, First);
        SendMany(_shared, Second);
    }

    [Benchmark(OperationsPerInvoke = 2 * SendsPerThread, Description = "engine, 2 threads, 2 channels of one engine")]
    public void TwoThreadsOneEngine() => Parallel.Invoke(() => SendMany(_shared, First), () => SendMany(_shared, Second));

    [Benchmark(OperationsPerInvoke = 2 * SendsPerThread, Description = "engine, 2 threads, one engine each")]
    public void TwoThreadsTwoEngines() => Parallel.Invoke(() => SendMany(_ownA, First), () => SendMany(_ownB, Second));

    [Benchmark(OperationsPerInvoke = 2 * SendsPerThread, Description = "mutex store, 2 threads, one store each")]
    public void TwoThreadsTwoMutexStores() => Parallel.Invoke(() => SendMany(_mutexA, First), () => SendMany(_mutexB, Second));

    private static void SendMany(IMessageQueue queue, string channel)
    {
        for (var i = 0; i < SendsPerThread; i++)
        {
            queue.Send(channel, BenchData.SmallDraft);
        }
    }

    private static void SendMany(MutexMessageStore store, string channel)
    {
        for (var i = 0; i < SendsPerThread; i++)
        {
            store.Send(channel, BenchData.SmallDraft);
        }
    }
}
