using System.Collections.Concurrent;
using System.Globalization;

namespace BrummerQueue.Core.Tests.Concurrency;

/// <summary>
/// Request/reply on real threads: several requesters and several responders that each answer every request they see
/// (so replies race): every request gets exactly one reply, the one it was sent, every other reply is refused, and a
/// reply after the request ended is refused too. Bounded in time; nothing sleeps.
/// </summary>
[Trait("Category", "Stress")]
public sealed class RequestConcurrencyTests
{
    private const int Requesters = 4;
    private const int PerRequester = 250;
    private const int Total = Requesters * PerRequester;
    private const int Responders = 3;

    [Fact]
    public async Task ManyRequestsRacingResponders_EachAnsweredExactlyOnceLateRepliesRefused()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        using var queue = MessageQueue.CreateInMemory(new QueueOptions { SweepInterval = TimeSpan.FromMilliseconds(1) }, TimeProvider.System);
        var subscriptions = Enumerable.Range(0, Responders).Select(_ => queue.Subscribe("svc", new SubscribeOptions { BufferSize = Total })).ToList();

        // reply_to -> responder whose reply was accepted.
        var accepted = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var refused = 0;
        var seen = new ConcurrentBag<QueueMessage>();
        var responders = subscriptions.Select((subscription, responder) => Task.Run(
            async () =>
            {
                var answered = 0;
                var batch = new List<QueueMessage>();
                while (answered < Total && await subscription.WaitToReadAsync(ct))
                {
                    batch.Clear();
                    subscription.ReadBatch(100, batch);
                    foreach (var request in batch)
                    {
                        answered++;
                        seen.Add(request);
                        try
                        {
                            var draft = new MessageDraft(Payload: JsonPayload.Parse(responder.ToString(CultureInfo.InvariantCulture))) { CorrelationId = request.Id.ToString() };
                            queue.Send(request.ReplyTo!, draft);
                            Assert.True(accepted.TryAdd(request.ReplyTo!, responder), $"a second reply to {request.ReplyTo} was accepted");
                        }
                        catch (QueueException e) when (e.Code == QueueErrorCodes.NotFound)
                        {
                            Interlocked.Increment(ref refused);
                        }
                    }
                }
            },
            ct)).ToList();

        var requesters = Enumerable.Range(0, Requesters).Select(r => Task.Run(
            async () =>
            {
                var replies = new List<(PendingRequest Request, QueueMessage? Reply)>();
                for (var i = 0; i < PerRequester; i++)
                {
                    using var pending = queue.Request("svc", new MessageDraft(Payload: JsonPayload.Parse($"[{r},{i}]")), TimeSpan.FromSeconds(60));
                    replies.Add((pending, await pending.WaitAsync(ct)));
                }

                return replies;
            },
            ct)).ToList();

        var results = (await Task.WhenAll(requesters).WaitAsync(ct)).SelectMany(r => r).ToList();
        await Task.WhenAll(responders).WaitAsync(ct);

        Assert.Equal(Total, results.Count);
        Assert.Equal(Total, results.Select(r => r.Request.ReplyTo).Distinct().Count());
        foreach (var (request, reply) in results)
        {
            Assert.NotNull(reply);
            Assert.Equal(request.Request.Message.Id.ToString(), reply.CorrelationId);
            Assert.Equal(accepted[request.ReplyTo].ToString(CultureInfo.InvariantCulture), reply.Payload.ToString());
        }

        Assert.Equal(Total, accepted.Count);
        Assert.Equal(Total * (Responders - 1), refused);
        Assert.Equal(Total * Responders, seen.Count);

        // Late: every request has ended, so every further reply is refused and nothing is stored.
        foreach (var (request, _) in results)
        {
            var late = Assert.Throws<QueueException>(() => queue.Send(request.ReplyTo, default));
            Assert.Contains("no request waiting on it", late.Message, StringComparison.Ordinal);
        }

        var stats = queue.GetStats();
        Assert.Equal(Total, stats.MessagesSent);
        Assert.Equal(1, stats.TotalChannels);
    }
}
