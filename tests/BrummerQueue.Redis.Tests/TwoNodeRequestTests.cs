using System.Collections.Concurrent;
using System.Globalization;
using BrummerQueue.Core;
using StackExchange.Redis;

namespace BrummerQueue.Redis.Tests;

/// <summary>Request/reply across two nodes on one redis-server: a request waiting on one node is answered through the other.</summary>
public sealed class TwoNodeRequestTests(RedisServerFixture redis) : IAsyncDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _prefix = RedisServerFixture.FreshPrefix();
    private readonly List<IAsyncDisposable> _connections = [];
    private readonly List<IMessageQueue> _queues = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Request_WaitingOnA_AnsweredThroughB_ReplyReturnedOnceAndLaterRepliesRefused()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        using var pending = a.Request("svc", new MessageDraft(Payload: JsonPayload.Parse("""{"q":1}""")), s_wait);
        var waiting = pending.WaitAsync(Ct).AsTask();

        var request = (await b.ReceiveAsync(new ReceiveRequest { Channel = "svc", Blocking = true, TimeoutSeconds = 30 }, Ct)).Messages.Single();
        Assert.Equal(pending.ReplyTo, request.ReplyTo);
        Assert.Equal(1, b.Send(request.ReplyTo!, new MessageDraft("answer", JsonPayload.Parse("""{"a":"ü"}""")) { CorrelationId = request.Id.ToString() }).DeliveredTo);
        var second = Assert.Throws<QueueException>(() => b.Send(request.ReplyTo!, default));
        // "already has its reply", or "no request waiting on it" once node A's waiter took the reply and ended the request.
        Assert.Equal((QueueErrorCodes.NotFound, "channel"), (second.Code, second.Field));
        Assert.Contains($"channel '{request.ReplyTo}' is a reply channel", second.Message, StringComparison.Ordinal);

        var reply = await waiting.WaitAsync(s_wait, Ct);
        Assert.NotNull(reply);
        Assert.Equal(("answer", """{"a":"ü"}""", request.Id.ToString()), (reply.Type, reply.Payload.ToString(), reply.CorrelationId));
        var late = Assert.Throws<QueueException>(() => b.Send(request.ReplyTo!, default));
        Assert.Equal(QueueErrorCodes.NotFound, late.Code);
        Assert.Contains("no request waiting on it", late.Message, StringComparison.Ordinal);
        Assert.Equal(["svc"], b.ListChannels().Select(c => c.Name));
    }

    [Fact]
    public async Task Requests_ManyOnBothNodesAnsweredByRacingResponders_EachAnsweredExactlyOnce()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        const int Count = 40;
        var pendings = Enumerable.Range(0, Count)
            .Select(i => (i % 2 == 0 ? a : b).Request("svc", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(CultureInfo.InvariantCulture))), s_wait))
            .ToList();
        var requests = new List<QueueMessage>();
        a.Receive("svc", 1000, peek: false, requests);

        // Two responders, one per node, each answer every request: exactly one reply per request is accepted.
        var accepted = new ConcurrentBag<(string ReplyTo, string Responder)>();
        var refused = 0;
        async Task RespondAsync(IMessageQueue node, string name)
        {
            await Task.Yield();
            foreach (var request in requests)
            {
                try
                {
                    node.Send(request.ReplyTo!, new MessageDraft(Payload: JsonPayload.Parse($"\"{name}\"")) { CorrelationId = request.Id.ToString() });
                    accepted.Add((request.ReplyTo!, name));
                }
                catch (QueueException e) when (e.Code == QueueErrorCodes.NotFound)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }

        await Task.WhenAll(RespondAsync(a, "a"), RespondAsync(b, "b")).WaitAsync(s_wait, Ct);
        Assert.Equal(Count, accepted.Count);
        Assert.Equal(Count, refused);
        Assert.Equal(Count, accepted.Select(x => x.ReplyTo).Distinct().Count());

        foreach (var pending in pendings)
        {
            var reply = await pending.WaitAsync(Ct).AsTask().WaitAsync(s_wait, Ct);
            Assert.NotNull(reply);
            Assert.Equal(pending.Request.Message.Id.ToString(), reply.CorrelationId);
            Assert.Equal($"\"{accepted.Single(x => x.ReplyTo == pending.ReplyTo).Responder}\"", reply.Payload.ToString());
            pending.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Dispose();
        }

        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    private async Task<IMessageQueue> NodeAsync()
    {
        redis.RequireServer();
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        _connections.Add(connection);
        var queue = RedisStore.Create(connection, new QueueOptions(), TimeProvider.System, _prefix);
        _queues.Add(queue);
        return queue;
    }
}
