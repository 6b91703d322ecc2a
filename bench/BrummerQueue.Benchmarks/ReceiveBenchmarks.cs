using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Receive (consume) 10 messages from a channel holding 1,000, engine against the single-lock baseline.
/// A consuming receive empties the backlog, so the backlog is refilled inside the measured operation:
/// <c>Send10Receive10</c> sends 10 then receives 10 (the backlog goes 1,000 → 1,010 → 1,000 and never
/// evicts). <c>Send10</c> measures the refill alone on the same kind of channel (no eviction: the
/// capacity is large and <c>IterationCleanup</c>, outside the measurement, trims the backlog back to
/// 1,000 after each iteration of 16,384 operations). The cost of receiving 10 is the difference.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(16_384)]
public class ReceiveBenchmarks
{
    private const string Channel = "bench.receive";
    private const int Backlog = 1_000;
    private readonly List<QueueMessage> _into = new(16);
    private readonly List<QueueMessage> _trim = new(1 << 18);
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Room for one whole iteration of Send10 without eviction: 1,000 + 10 × 16,384.
        var options = BenchData.Options(200_000);
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        for (var i = 0; i < Backlog; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
            _mutex.Send(Channel, BenchData.SmallDraft);
        }
    }

    [IterationCleanup]
    public void TrimToBacklog()
    {
        var stats = _queue.GetStats().Channels[Channel];
        TrimEngine(stats.Messages - Backlog);
        TrimMutex(_mutex.GetStats().Channels[Channel].Messages - Backlog);
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: send 10 + receive 10")]
    public int MutexSend10Receive10()
    {
        for (var i = 0; i < 10; i++)
        {
            _mutex.Send(Channel, BenchData.SmallDraft);
        }

        _into.Clear();
        return _mutex.Receive(Channel, 10, peek: false, _into);
    }

    [Benchmark(Description = "engine: send 10 + receive 10")]
    public int EngineSend10Receive10()
    {
        for (var i = 0; i < 10; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
        }

        _into.Clear();
        return _queue.Receive(Channel, 10, peek: false, _into);
    }

    [Benchmark(Description = "mutex store: send 10 (refill alone)")]
    public long MutexSend10()
    {
        long seq = 0;
        for (var i = 0; i < 10; i++)
        {
            seq = _mutex.Send(Channel, BenchData.SmallDraft).Message.Seq;
        }

        return seq;
    }

    [Benchmark(Description = "engine: send 10 (refill alone)")]
    public long EngineSend10()
    {
        long seq = 0;
        for (var i = 0; i < 10; i++)
        {
            seq = _queue.Send(Channel, BenchData.SmallDraft).Message.Seq;
        }

        return seq;
    }

    private void TrimEngine(int excess)
    {
        while (excess > 0)
        {
            _trim.Clear();
            excess -= _queue.Receive(Channel, Math.Min(excess, ReceiveRequest.MaxLimit), peek: false, _trim);
        }
    }

    private void TrimMutex(int excess)
    {
        while (excess > 0)
        {
            _trim.Clear();
            excess -= _mutex.Receive(Channel, Math.Min(excess, ReceiveRequest.MaxLimit), peek: false, _trim);
        }
    }
}
