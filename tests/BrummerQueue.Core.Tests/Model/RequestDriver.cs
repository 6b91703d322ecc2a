namespace BrummerQueue.Core.Tests.Model;

/// <summary>
/// Runs <see cref="QueueOperationKind.Request"/>, <see cref="QueueOperationKind.Reply"/> and
/// <see cref="QueueOperationKind.EndRequest"/> against the engine and the model side by side: a request is a send (with
/// ttl = its timeout) whose reply channel takes exactly one reply while it is open; a second reply, or one after its
/// deadline or end, is refused; waiting returns the accepted reply, or null after the deadline.
/// </summary>
internal sealed class RequestDriver(IMessageQueue queue, QueueModel model)
{
    private static readonly int[] s_timeouts = [1, 2];
    private readonly List<(PendingRequest Engine, ModelRequest Model)> _requests = [];

    public void Request(string channel, int timeoutIndex, JsonPayload payload)
    {
        var timeout = s_timeouts[timeoutIndex % s_timeouts.Length];
        var expected = model.Send(channel, timeout, payload.Length);
        PendingRequest? pending;
        try
        {
            pending = queue.Request(channel, new MessageDraft(Payload: payload), TimeSpan.FromSeconds(timeout));
        }
        catch (QueueException e) when (e.Code == QueueErrorCodes.QueueFull)
        {
            pending = null;
        }

        Assert.Equal(expected, pending?.Request.Message.Seq);
        if (pending is not null)
        {
            Assert.Equal(timeout, pending.Request.Message.TtlSeconds);
            _requests.Add((pending, new ModelRequest(model.NowMs + (timeout * 1000L))));
        }
    }

    public void Reply(int index, string payload)
    {
        if (_requests.Count == 0)
        {
            return;
        }

        var (engine, request) = _requests[index % _requests.Count];
        var before = queue.GetStats().MessagesSent;
        if (request.IsOpenAt(model.NowMs) && request.Reply is null)
        {
            var sent = queue.Send(engine.ReplyTo, new MessageDraft(Payload: JsonPayload.Parse(payload)) { CorrelationId = engine.Request.Message.Id.ToString() });
            Assert.Equal(engine.ReplyTo, sent.Message.Channel);
            request.Reply = payload;
        }
        else
        {
            var refused = Assert.Throws<QueueException>(() => queue.Send(engine.ReplyTo, new MessageDraft(Payload: JsonPayload.Parse(payload))));
            Assert.Equal((QueueErrorCodes.NotFound, "channel"), (refused.Code, refused.Field));
            Assert.Contains(request.IsOpenAt(model.NowMs) ? "already has its reply" : "no request waiting on it", refused.Message, StringComparison.Ordinal);
        }

        // A reply is no message of any channel.
        Assert.Equal(before, queue.GetStats().MessagesSent);
    }

    public void End(int index, bool wait)
    {
        if (_requests.Count == 0)
        {
            return;
        }

        var (engine, request) = _requests[index % _requests.Count];
        var ended = !request.IsOpenAt(model.NowMs);
        if (wait && (ended || request.Reply is not null))
        {
            // Answered, ended or past its deadline: the wait completes at once, with the accepted reply or null.
            var reply = engine.WaitAsync().AsTask();
            Assert.True(reply.IsCompleted || reply.Wait(TimeSpan.FromSeconds(10)));
            Assert.Equal(request.Reply, reply.Result?.Payload.ToString());
        }
        else
        {
            engine.Dispose();
        }

        request.Ended = true;
    }
}
