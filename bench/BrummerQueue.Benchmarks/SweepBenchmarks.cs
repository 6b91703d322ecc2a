using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// One cleanup pass over 100,000 retained messages in 10 channels, every other message expired
/// (TTL 1 s and 3,600 s interleaved, then the fake clock moves 2 s), so expired messages are not a
/// prefix and the whole backlog must be scanned. The store is rebuilt before each pass outside the
/// measurement (<c>IterationSetup</c>, one pass per iteration). Engine against the single-lock baseline.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
[InvocationCount(1)]
public class SweepBenchmarks
{
    private const int Channels = 10;
    private const int MessagesPerChannel = 10_000;
    private static readonly string[] s_names = [.. Enumerable.Range(0, Channels).Select(i => $"bench.sweep.{i}")];
    private static readonly MessageDraft s_shortLived = BenchData.SmallDraft with { TtlSeconds = 1 };
    private static readonly MessageDraft s_longLived = BenchData.SmallDraft with { TtlSeconds = 3600 };
    private readonly FakeTimeProvider _time = new();
    private IMessageQueue? _queue;
    private MutexMessageStore? _mutex;

    /// <summary>Messages the last pass removed; 50,000 when the pass did its work.</summary>
    public long LastRemoved { get; private set; }

    [IterationSetup(Target = nameof(EngineSweep))]
    public void SetupEngine()
    {
        _queue?.Dispose();
        _queue = MessageQueue.CreateInMemory(BenchData.Options(), _time);
        Fill((name, draft) => _queue.Send(name, draft));
        _time.Advance(TimeSpan.FromSeconds(2));
    }

    [IterationSetup(Target = nameof(MutexSweep))]
    public void SetupMutex()
    {
        _mutex = new MutexMessageStore(BenchData.Options(), _time);
        Fill((name, draft) => _mutex.Send(name, draft));
        _time.Advance(TimeSpan.FromSeconds(2));
    }

    [GlobalCleanup]
    public void Cleanup() => _queue?.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: sweep 100,000 (half expired)")]
    public long MutexSweep() => LastRemoved = _mutex!.Sweep();

    [Benchmark(Description = "engine: sweep 100,000 (half expired)")]
    public long EngineSweep() => LastRemoved = _queue!.Sweep().ExpiredMessages;

    private static void Fill(Action<string, MessageDraft> send)
    {
        for (var i = 0; i < MessagesPerChannel; i++)
        {
            foreach (var name in s_names)
            {
                send(name, i % 2 == 0 ? s_shortLived : s_longLived);
            }
        }
    }
}
