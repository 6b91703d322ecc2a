using BrummerQueue.Core;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Core.Tests.Contract;

/// <summary>
/// The engine contract of SPEC.md §1 and the engine side of §2, run against every store: a store's
/// test class derives from this one and supplies <see cref="CreateQueue"/>. Time is a
/// <see cref="FakeTimeProvider"/>: nothing here sleeps.
/// </summary>
public abstract partial class MessageQueueContractTests : IDisposable
{
    private readonly List<IMessageQueue> _queues = [];

    protected MessageQueueContractTests()
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));
    }

    protected FakeTimeProvider Time { get; }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates an empty queue of the store under test.</summary>
    protected abstract IMessageQueue CreateQueue(QueueOptions options, TimeProvider time);

    public void Dispose()
    {
        foreach (var queue in _queues)
        {
            queue.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    protected IMessageQueue NewQueue(QueueOptions? options = null)
    {
        var queue = CreateQueue(options ?? new QueueOptions(), Time);
        _queues.Add(queue);
        return queue;
    }

    protected static QueueMessage Send(IMessageQueue queue, string channel, string payloadJson = "null", string? type = null, long? ttl = null) =>
        queue.Send(channel, new MessageDraft(type, JsonPayload.Parse(payloadJson), ttl)).Message;

    protected static List<QueueMessage> Take(IMessageQueue queue, string channel, int limit = 1000, bool peek = false)
    {
        var list = new List<QueueMessage>();
        queue.Receive(channel, limit, peek, list);
        return list;
    }

    protected static long[] Seqs(IEnumerable<QueueMessage> messages) => [.. messages.Select(m => m.Seq)];

    protected static QueueException AssertRefused(string code, string? field, string messagePart, Action action)
    {
        var error = Assert.Throws<QueueException>(action);
        Assert.Equal(code, error.Code);
        Assert.Equal(field, error.Field);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
        return error;
    }

    protected static async Task<QueueException> AssertRefusedAsync(string code, string? field, string messagePart, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<QueueException>(action);
        Assert.Equal(code, error.Code);
        Assert.Equal(field, error.Field);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
        return error;
    }
}
