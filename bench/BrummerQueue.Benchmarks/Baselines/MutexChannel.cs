using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks.Baselines;

/// <summary>One channel of <see cref="MutexMessageStore"/>. Every field is guarded by the store's single lock.</summary>
internal sealed class MutexChannel(string name)
{
    public string Name { get; } = name;

    public Queue<QueueMessage> Backlog { get; } = new();

    public List<MutexSubscription> Subscriptions { get; } = [];

    public long LastSeq { get; set; }

    public long Sent { get; set; }

    public long Consumed { get; set; }

    public long Expired { get; set; }

    public long Dropped { get; set; }
}
