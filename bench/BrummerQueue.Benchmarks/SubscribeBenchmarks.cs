using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Subscribe to an existing channel then unsubscribe by id (default buffer of 100), engine against the
/// single-lock baseline. The channel keeps one retained message so it is never empty.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class SubscribeBenchmarks
{
    private const string Channel = "bench.subscribe";
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options();
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        _queue.Send(Channel, BenchData.SmallDraft);
        _mutex.Send(Channel, BenchData.SmallDraft);
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: subscribe + unsubscribe")]
    public bool MutexSubscribeUnsubscribe()
    {
        var subscription = _mutex.Subscribe(Channel, _queue.Options.DefaultSubscriptionBufferSize);
        return _mutex.Unsubscribe(subscription.Id);
    }

    [Benchmark(Description = "engine: subscribe + unsubscribe")]
    public bool EngineSubscribeUnsubscribe()
    {
        var subscription = _queue.Subscribe(Channel);
        return _queue.Unsubscribe(subscription.Id);
    }
}
