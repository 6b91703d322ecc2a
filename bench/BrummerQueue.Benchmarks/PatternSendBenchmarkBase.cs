using BenchmarkDotNet.Attributes;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// The set-up <see cref="PatternSendBenchmarks"/> and <see cref="RedisPatternSendBenchmarks"/> share (issue 13 point 2): two
/// stores the subclass makes, each given a full channel of <see cref="Backlog"/> (so each send also evicts); one with no
/// pattern subscription (the baseline), the other with 1,000 open pattern subscriptions, half <c>appN.*</c> and half
/// <c>bench.send.pN.&gt;</c>, none matching <see cref="Channel"/> (checked: a send to it is delivered to none).
/// </summary>
public abstract class PatternSendBenchmarkBase
{
    /// <summary>The channel every send goes to.</summary>
    protected const string Channel = "bench.send";

    /// <summary>The channel's capacity, and how many messages fill it before measuring.</summary>
    protected const int Backlog = 1_000;

    private const int Patterns = 1_000;

    /// <summary>The store with no pattern subscription (the baseline).</summary>
    protected IMessageQueue Plain { get; private set; } = null!;

    /// <summary>The store with 1,000 non-matching pattern subscriptions.</summary>
    protected IMessageQueue WithPatterns { get; private set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        (Plain, WithPatterns) = CreateStores();
        for (var i = 0; i < Patterns; i++)
        {
            WithPatterns.Subscribe(i % 2 == 0 ? $"app{i}.*" : $"bench.send.p{i}.>");
        }

        for (var i = 0; i < Backlog; i++)
        {
            Plain.Send(Channel, BenchData.SmallDraft);
            WithPatterns.Send(Channel, BenchData.SmallDraft);
        }

        if (WithPatterns.Send(Channel, BenchData.SmallDraft).DeliveredTo != 0)
        {
            throw new InvalidOperationException("a pattern matched the benchmark's channel");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Plain.Dispose();
        WithPatterns.Dispose();
        StopServer();
    }

    /// <summary>Makes the two empty stores, each with a channel capacity of <see cref="Backlog"/>.</summary>
    protected abstract (IMessageQueue Plain, IMessageQueue WithPatterns) CreateStores();

    /// <summary>Stops a server <see cref="CreateStores"/> started (none by default), after both stores are disposed.</summary>
    protected virtual void StopServer()
    {
    }
}
