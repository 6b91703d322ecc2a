using BrummerQueue.Core.Tests.Contract;

namespace BrummerQueue.Core.Tests;

/// <summary>The contract tests against the in-memory store, and what only the in-memory store does.</summary>
public sealed class InMemoryMessageQueueTests : MessageQueueContractTests
{
    [Fact]
    public async Task PutBack_ChannelRemovedByCleanupMeanwhile_RecreatedInTheSameEpoch()
    {
        // The put-back continues the removed incarnation (its seqs go on), so a client that saw the messages resumes exactly.
        var queue = NewQueue();
        var watcher = queue.Subscribe("c");
        Send(queue, "c");
        Send(queue, "c");
        var taken = await queue.ReceiveAsync(new ReceiveRequest { Channel = "c" }, Ct);
        Assert.True(queue.Unsubscribe(watcher.Id));
        Assert.Equal(1, queue.Sweep().ChannelsRemoved);

        queue.PutBack(taken);

        Assert.Equal(watcher.Epoch, EpochOf(queue, "c"));
        var resumed = queue.Subscribe("c", new SubscribeOptions { SinceSeq = 1, Epoch = watcher.Epoch });
        Assert.True(resumed.Recovered);
    }

    protected override IMessageQueue CreateQueue(QueueOptions options, TimeProvider time) => MessageQueue.CreateInMemory(options, time);
}
