using BrummerQueue.Core.Tests.Contract;

namespace BrummerQueue.Core.Tests;

/// <summary>The contract tests against the in-memory store.</summary>
public sealed class InMemoryMessageQueueTests : MessageQueueContractTests
{
    protected override IMessageQueue CreateQueue(QueueOptions options, TimeProvider time) => MessageQueue.CreateInMemory(options, time);
}
