using BrummerQueue.Core;

namespace BrummerQueue.Core.Tests.Contract;

/// <summary>Request/reply (docs/protocol.md "Request/reply"): reply_to and correlation_id, private reply channels, late replies.</summary>
public abstract partial class MessageQueueContractTests
{
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Send_ReplyToAndCorrelationId_KeptInBacklogAndSubscriptionCopies()
    {
        var queue = NewQueue();
        var subscription = queue.Subscribe("orders");
        var sent = queue.Send("orders", new MessageDraft("ask", JsonPayload.Parse("1")) { ReplyTo = "orders.replies", CorrelationId = "abc-1 ü" }).Message;
        Assert.Equal("orders.replies", sent.ReplyTo);
        Assert.Equal("abc-1 ü", sent.CorrelationId);

        Assert.True(subscription.TryRead(out var copy));
        Assert.Equal(("orders.replies", "abc-1 ü"), (copy.ReplyTo, copy.CorrelationId));
        var taken = Assert.Single(Take(queue, "orders"));
        Assert.Equal(("orders.replies", "abc-1 ü"), (taken.ReplyTo, taken.CorrelationId));

        var plain = Send(queue, "orders");
        Assert.Null(plain.ReplyTo);
        Assert.Null(plain.CorrelationId);
        Assert.Null(Assert.Single(Take(queue, "orders")).CorrelationId);
    }

    [Theory]
    [InlineData("bad name", null, "reply_to", "reply_to must be 1-128 characters")]
    [InlineData("", null, "reply_to", "reply_to must be 1-128 characters")]
    [InlineData(null, "", "correlation_id", "correlation_id must be 1-128 characters with no control characters")]
    [InlineData(null, "a\nb", "correlation_id", "correlation_id must be 1-128 characters with no control characters")]
    public void Send_BadReplyToOrCorrelationId_RefusedNamingTheField(string? replyTo, string? correlationId, string field, string rule)
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, field, rule, () => queue.Send("c", new MessageDraft { ReplyTo = replyTo, CorrelationId = correlationId }));
        AssertRefused(QueueErrorCodes.InvalidArgument, "correlation_id", "correlation_id must be", () => queue.Send("c", new MessageDraft { CorrelationId = new string('x', 129) }));
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public async Task Request_ResponderAnswersReplyTo_WaitReturnsTheReply()
    {
        var queue = NewQueue();
        var responder = queue.Subscribe("svc");
        using var pending = queue.Request("svc", new MessageDraft("ask", JsonPayload.Parse("""{"q":"state?"}""")), s_requestTimeout);

        Assert.StartsWith("_inbox.", pending.ReplyTo, StringComparison.Ordinal);
        Assert.Equal(7 + 26, pending.ReplyTo.Length);
        Assert.Equal(1, pending.Request.DeliveredTo);
        Assert.Equal(30, pending.Request.Message.TtlSeconds);
        Assert.True(responder.TryRead(out var request));
        Assert.Equal(pending.ReplyTo, request.ReplyTo);

        var answer = queue.Send(request.ReplyTo!, new MessageDraft("answer", JsonPayload.Parse("""{"ok":true}""")) { CorrelationId = request.Id.ToString() });
        Assert.Equal(1, answer.DeliveredTo);

        var reply = await pending.WaitAsync(Ct);
        Assert.NotNull(reply);
        Assert.Equal(pending.ReplyTo, reply.Channel);
        Assert.Equal("answer", reply.Type);
        Assert.Equal("""{"ok":true}""", reply.Payload.ToString());
        Assert.Equal(request.Id.ToString(), reply.CorrelationId);

        // The request itself is a normal message: still in the backlog for a receiver, with its reply_to.
        var inBacklog = Assert.Single(Take(queue, "svc"));
        Assert.Equal(pending.ReplyTo, inBacklog.ReplyTo);
    }

    [Fact]
    public async Task Request_SecondReplyAndReplyAfterTheEnd_RefusedNamingTheReplyChannel()
    {
        var queue = NewQueue();
        var pending = queue.Request("svc", default, s_requestTimeout);
        queue.Send(pending.ReplyTo, new MessageDraft(Payload: JsonPayload.Parse("1")));
        AssertRefused(QueueErrorCodes.NotFound, "channel", $"channel '{pending.ReplyTo}' is a reply channel whose request already has its reply", () => queue.Send(pending.ReplyTo, new MessageDraft(Payload: JsonPayload.Parse("2"))));

        var reply = await pending.WaitAsync(Ct);
        Assert.Equal("1", reply!.Payload.ToString());
        AssertRefused(QueueErrorCodes.NotFound, "channel", $"channel '{pending.ReplyTo}' is a reply channel with no request waiting on it", () => queue.Send(pending.ReplyTo, default));
    }

    [Fact]
    public async Task Request_TimeoutPasses_WaitReturnsNullAndLateReplyRefused()
    {
        var queue = NewQueue();
        using var pending = queue.Request("svc", default, TimeSpan.FromSeconds(5));
        var waiting = pending.WaitAsync(Ct).AsTask();
        Time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(waiting.IsCompleted);
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        AssertRefused(QueueErrorCodes.NotFound, "channel", "the request was answered, timed out or was cancelled", () => queue.Send(pending.ReplyTo, default));
    }

    [Fact]
    public async Task RequestAsync_NoReply_ThrowsTimeoutNamingChannelAndRequest()
    {
        var queue = NewQueue();
        var asking = queue.RequestAsync("svc", default, 1.5, Ct);

        // The request expires with its wait (ttl = the timeout, rounded up).
        var request = Assert.Single(Take(queue, "svc", peek: true));
        Assert.Equal(2, request.TtlSeconds);
        Time.Advance(TimeSpan.FromSeconds(2));

        var error = await AssertRefusedAsync(QueueErrorCodes.Timeout, "timeout", "no reply within 1.5 s to request", () => asking.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Contains("on channel 'svc'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Take(queue, "svc", peek: true));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(300.5)]
    public async Task RequestAsync_BadTimeout_RefusedNamingTheRule(double timeout)
    {
        var queue = NewQueue();
        await AssertRefusedAsync(QueueErrorCodes.InvalidArgument, "timeout", "timeout must be a number of seconds greater than 0 and at most 300", () => queue.RequestAsync("svc", default, timeout, Ct));
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public async Task RequestAsync_Answered_ReturnsRequestAndReply()
    {
        var queue = NewQueue();
        var responder = queue.Subscribe("svc");
        var asking = queue.RequestAsync("svc", new MessageDraft(Payload: JsonPayload.Parse("41")), 30, Ct);
        Assert.True(await responder.WaitToReadAsync(Ct));
        Assert.True(responder.TryRead(out var request));
        queue.Send(request.ReplyTo!, new MessageDraft(Payload: JsonPayload.Parse("42")) { CorrelationId = request.Id.ToString() });

        var (sent, reply) = await asking.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(request.Id, sent.Message.Id);
        Assert.Equal("42", reply.Payload.ToString());
    }

    [Fact]
    public async Task Request_Cancelled_EndsTheRequestAndReplyRefused()
    {
        var queue = NewQueue();
        using var pending = queue.Request("svc", default, s_requestTimeout);
        using var cancel = new CancellationTokenSource();
        var waiting = pending.WaitAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        AssertRefused(QueueErrorCodes.NotFound, "channel", "no request waiting on it", () => queue.Send(pending.ReplyTo, default));
    }

    [Fact]
    public void ReplyChannel_NotListedNotReadableNotSubscribable()
    {
        var queue = NewQueue();
        using var pending = queue.Request("svc", default, s_requestTimeout);
        Assert.Equal(["svc"], queue.ListChannels().Select(c => c.Name));
        Assert.Equal(1, queue.GetStats().TotalChannels);

        const string Private = "is a private reply channel";
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", Private, () => queue.Subscribe(pending.ReplyTo));
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", Private, () => Take(queue, pending.ReplyTo));
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", Private, () => Take(queue, pending.ReplyTo, peek: true));
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", Private, () => queue.ReceiveAsync(new ReceiveRequest { Channel = pending.ReplyTo }, Ct).AsTask().GetAwaiter().GetResult());

        // A reply changes no channel's figures.
        queue.Send(pending.ReplyTo, default);
        var stats = queue.GetStats();
        Assert.Equal(1, stats.MessagesSent);
        Assert.Equal(1, stats.TotalChannels);
    }

    [Fact]
    public void Send_ToAnInboxNobodyOpened_RefusedNotFound()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.NotFound, "channel", "channel '_inbox.aaaaaaaaaaaaaaaaaaaaaaaaaa' is a reply channel with no request waiting on it", () => queue.Send("_inbox.aaaaaaaaaaaaaaaaaaaaaaaaaa", default));
        Assert.Empty(queue.ListChannels());
        Assert.Equal(0, queue.GetStats().MessagesSent);
    }

    [Fact]
    public void Request_RefusedSend_LeavesNoReplyChannel()
    {
        var queue = NewQueue();
        AssertRefused(QueueErrorCodes.InvalidArgument, "type", "type must be 1-128 characters", () => queue.Request("svc", new MessageDraft(Type: ""), s_requestTimeout));
        AssertRefused(QueueErrorCodes.InvalidArgument, "channel", "channel must be", () => queue.Request("bad name", default, s_requestTimeout));
        Assert.Empty(queue.ListChannels());
    }

    [Fact]
    public async Task Request_ManyAtOnce_EachGetsItsOwnReply()
    {
        var queue = NewQueue();
        var pendings = Enumerable.Range(0, 20).Select(i => queue.Request("svc", new MessageDraft(Payload: JsonPayload.Parse(i.ToString(System.Globalization.CultureInfo.InvariantCulture))), s_requestTimeout)).ToList();
        Assert.Equal(20, pendings.Select(p => p.ReplyTo).Distinct().Count());
        foreach (var request in Take(queue, "svc"))
        {
            queue.Send(request.ReplyTo!, new MessageDraft(Payload: request.Payload) { CorrelationId = request.Id.ToString() });
        }

        for (var i = 0; i < pendings.Count; i++)
        {
            var reply = await pendings[i].WaitAsync(Ct);
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), reply!.Payload.ToString());
            Assert.Equal(pendings[i].Request.Message.Id.ToString(), reply.CorrelationId);
        }
    }
}
