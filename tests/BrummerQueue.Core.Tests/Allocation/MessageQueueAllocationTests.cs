using BrummerQueue.Core;

namespace BrummerQueue.Core.Tests.Allocation;

/// <summary>
/// Allocation budgets of the hot paths, counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// (exact for the calling thread; the sweeper's timer runs elsewhere). These are byte counts, not timings.
/// Each path runs many times after a warm-up and the budget allows a fixed <see cref="Slack"/> for the
/// whole loop, far less than one extra object per operation, so a per-operation allocation always fails.
/// </summary>
public sealed class MessageQueueAllocationTests
{
    private const int Operations = 10_000;
    private const long Slack = 1024;
    private const string Channel = "alloc.test";
    private static readonly MessageDraft s_draft = new(null, JsonPayload.Parse("""{"user":"ada","action":"click","x":12,"y":340}"""));

    [Fact]
    public void Send_WarmChannelAtCapacity_AllocatesOnlyTheMessage()
    {
        using var queue = CreateQueue(capacity: 100);
        Fill(queue, 2 * Operations);

        var allocated = Measure(() =>
        {
            for (var i = 0; i < Operations; i++)
            {
                queue.Send(Channel, s_draft);
            }
        });

        Assert.InRange(allocated, Operations * MessageSize(), (Operations * MessageSize()) + Slack);
    }

    [Fact]
    public void SendAsync_WarmChannelAtCapacity_CompletesSynchronouslyAndAllocatesOnlyTheMessage()
    {
        using var queue = CreateQueue(capacity: 100);
        Fill(queue, 2 * Operations);

        var completed = 0;
        var allocated = Measure(() =>
        {
            for (var i = 0; i < Operations; i++)
            {
                if (CompletedSuccessfully(queue.SendAsync(Channel, s_draft)))
                {
                    completed++;
                }
            }
        });

        Assert.Equal(Operations, completed);
        Assert.InRange(allocated, Operations * MessageSize(), (Operations * MessageSize()) + Slack);
    }

    [Fact]
    public void Send_ToThreeSubscriptions_AllocatesOnlyTheMessage()
    {
        using var queue = CreateQueue(capacity: 100);
        var subscriptions = Enumerable.Range(0, 3).Select(_ => queue.Subscribe(Channel, new SubscribeOptions { BufferSize = 100 })).ToArray();
        Fill(queue, 2 * Operations);

        var allocated = Measure(() =>
        {
            for (var i = 0; i < Operations; i++)
            {
                queue.Send(Channel, s_draft);
            }
        });

        Assert.InRange(allocated, Operations * MessageSize(), (Operations * MessageSize()) + Slack);
        Assert.All(subscriptions, s => Assert.True(s.TryRead(out _)));
    }

    [Fact]
    public void TryRead_BufferedMessages_AllocatesNothing()
    {
        using var queue = CreateQueue(capacity: 100);
        var subscription = queue.Subscribe(Channel, new SubscribeOptions { BufferSize = Operations });
        Fill(queue, 100);
        Drain(subscription);
        Fill(queue, Operations);

        var read = 0;
        var allocated = Measure(() =>
        {
            while (subscription.TryRead(out _))
            {
                read++;
            }
        });

        Assert.Equal(Operations, read);
        Assert.InRange(allocated, 0, Slack);
    }

    [Fact]
    public void ReadBatch_PresizedList_AllocatesNothing()
    {
        using var queue = CreateQueue(capacity: 100);
        var subscription = queue.Subscribe(Channel, new SubscribeOptions { BufferSize = Operations });
        Fill(queue, 100);
        Drain(subscription);
        Fill(queue, Operations);
        var into = new List<QueueMessage>(100);
        subscription.ReadBatch(1, into);
        Fill(queue, 1);

        var read = 0;
        var allocated = Measure(() =>
        {
            for (var i = 0; i < Operations / 100; i++)
            {
                into.Clear();
                subscription.ReadBatch(100, into);
                read += into.Count;
            }
        });

        Assert.Equal(Operations, read);
        Assert.InRange(allocated, 0, Slack);
    }

    [Fact]
    public void Receive_PresizedList_AllocatesNothing()
    {
        using var queue = CreateQueue(capacity: Operations + 10);
        Fill(queue, Operations + 10);
        var into = new List<QueueMessage>(10);
        queue.Receive(Channel, 10, peek: true, into);
        into.Clear();
        queue.Receive(Channel, 10, peek: false, into);

        var peeked = 0;
        var received = 0;
        var allocated = Measure(() =>
        {
            for (var i = 0; i < Operations / 10; i++)
            {
                into.Clear();
                peeked += queue.Receive(Channel, 10, peek: true, into);
                into.Clear();
                received += queue.Receive(Channel, 10, peek: false, into);
            }
        });

        Assert.Equal(Operations, peeked);
        Assert.Equal(Operations, received);
        Assert.InRange(allocated, 0, Slack);
    }

    private static bool CompletedSuccessfully(ValueTask<SendResult> sending) => sending.IsCompletedSuccessfully;

    private static IMessageQueue CreateQueue(int capacity) =>
        MessageQueue.CreateInMemory(new QueueOptions { ChannelCapacity = capacity, SweepInterval = TimeSpan.FromDays(1) });

    private static void Fill(IMessageQueue queue, int count)
    {
        for (var i = 0; i < count; i++)
        {
            queue.Send(Channel, s_draft);
        }
    }

    private static void Drain(Subscription subscription)
    {
        while (subscription.TryRead(out _))
        {
        }
    }

    /// <summary>Bytes one <see cref="QueueMessage"/> takes on the heap, measured by constructing some.</summary>
    private static long MessageSize()
    {
        const int Count = 100;
        var keep = new QueueMessage[Count];
        keep[0] = NewMessage(0);
        var allocated = Measure(() =>
        {
            for (var i = 0; i < Count; i++)
            {
                keep[i] = NewMessage(i);
            }
        });
        GC.KeepAlive(keep);
        return allocated / Count;
    }

    private static QueueMessage NewMessage(long seq) => new(Guid.Empty, Channel, seq, "message", s_draft.Payload, 1_700_000_000_000, 3600);

    /// <summary>Bytes allocated on this thread by <paramref name="action"/>; the caller warms the path up first.</summary>
    private static long Measure(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
