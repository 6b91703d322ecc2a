using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BrummerQueue.Benchmarks.Baselines;
using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// One send to a channel with 1, 10 or 100 subscribers (buffer 100, drop-oldest), then every
/// subscriber reads its copy. Engine against the single-lock baseline, and against
/// <c>System.Threading.Channels</c>: one bounded channel per subscriber with
/// <see cref="BoundedChannelFullMode.DropOldest"/>, the writer making the same message (same type, id
/// generator and clock) and writing it to each. The Channels variant keeps no channel backlog, so it
/// does less work than the two stores (whose backlogs are full at 1,000 and evict one per send).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class FanOutBenchmarks
{
    private const string Channel = "bench.fanout";
    private const int Capacity = 1_000;
    private IMessageQueue _queue = null!;
    private MutexMessageStore _mutex = null!;
    private Subscription[] _engineSubscriptions = [];
    private MutexSubscription[] _mutexSubscriptions = [];
    private Channel<QueueMessage>[] _channels = [];
    private long _channelsSeq;

    [Params(1, 10, 100)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchData.Options(Capacity);
        _queue = MessageQueue.CreateInMemory(options);
        _mutex = new MutexMessageStore(options, TimeProvider.System);
        _engineSubscriptions = new Subscription[Subscribers];
        _mutexSubscriptions = new MutexSubscription[Subscribers];
        _channels = new Channel<QueueMessage>[Subscribers];
        for (var i = 0; i < Subscribers; i++)
        {
            _engineSubscriptions[i] = _queue.Subscribe(Channel);
            _mutexSubscriptions[i] = _mutex.Subscribe(Channel, options.DefaultSubscriptionBufferSize);
            _channels[i] = System.Threading.Channels.Channel.CreateBounded<QueueMessage>(
                new BoundedChannelOptions(options.DefaultSubscriptionBufferSize) { FullMode = BoundedChannelFullMode.DropOldest });
        }

        for (var i = 0; i < Capacity; i++)
        {
            _queue.Send(Channel, BenchData.SmallDraft);
            _mutex.Send(Channel, BenchData.SmallDraft);
        }

        Drain();
    }

    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    [Benchmark(Baseline = true, Description = "mutex store: send + each subscriber reads")]
    public int MutexFanOut()
    {
        _mutex.Send(Channel, BenchData.SmallDraft);
        var read = 0;
        foreach (var subscription in _mutexSubscriptions)
        {
            if (subscription.TryRead(out _))
            {
                read++;
            }
        }

        return read;
    }

    [Benchmark(Description = "System.Threading.Channels: write to each + each reads")]
    public int ChannelsFanOut()
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var message = new QueueMessage(MessageIdGenerator.Next(now), Channel, ++_channelsSeq, "message", BenchData.SmallPayload, now, 3600);
        foreach (var channel in _channels)
        {
            channel.Writer.TryWrite(message);
        }

        var read = 0;
        foreach (var channel in _channels)
        {
            if (channel.Reader.TryRead(out _))
            {
                read++;
            }
        }

        return read;
    }

    [Benchmark(Description = "engine: send + each subscriber reads")]
    public int EngineFanOut()
    {
        _queue.Send(Channel, BenchData.SmallDraft);
        var read = 0;
        foreach (var subscription in _engineSubscriptions)
        {
            if (subscription.TryRead(out _))
            {
                read++;
            }
        }

        return read;
    }

    private void Drain()
    {
        foreach (var subscription in _engineSubscriptions)
        {
            while (subscription.TryRead(out _))
            {
            }
        }

        foreach (var subscription in _mutexSubscriptions)
        {
            while (subscription.TryRead(out _))
            {
            }
        }
    }
}
