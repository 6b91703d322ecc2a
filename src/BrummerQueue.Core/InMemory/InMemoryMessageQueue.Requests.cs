using System.Collections.Concurrent;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Request/reply (docs/protocol.md "Request/reply"): <c>_inboxes</c> holds the reply channels of the requests that wait,
/// a concurrent dictionary by name. A reply is handed to its request (<see cref="InMemoryPendingRequest.TryAnswer"/>), never
/// stored in a channel, so a reply channel is never listed, counted or left behind.
/// </summary>
internal sealed partial class InMemoryMessageQueue
{
    private readonly ConcurrentDictionary<string, InMemoryPendingRequest> _inboxes = new(StringComparer.Ordinal);

    public PendingRequest Request(string channel, MessageDraft draft, TimeSpan timeout)
    {
        var pending = new InMemoryPendingRequest(ReplyInbox.NewName(), timeout, _time, _inboxes);
        try
        {
            pending.Sent = Send(channel, ReplyInbox.RequestDraft(draft, pending.Inbox, timeout));
        }
        catch
        {
            pending.Dispose();
            throw;
        }

        return pending;
    }

    /// <summary>A send to a reply channel: the reply of the request waiting on it, if one still does and has none yet.</summary>
    private SendResult SendReply(string inbox, MessageDraft draft, string type, int ttl)
    {
        if (!_inboxes.TryGetValue(inbox, out var pending))
        {
            throw ReplyInbox.Gone(inbox);
        }

        var now = NowMs();
        var reply = new QueueMessage(MessageIdGenerator.Next(now), inbox, 1, type, draft.Payload, now, ttl)
        {
            ReplyTo = draft.ReplyTo,
            CorrelationId = draft.CorrelationId,
        };
        return pending.TryAnswer(reply, out var closed)
            ? new SendResult(reply, 1)
            : throw (closed ? ReplyInbox.Gone(inbox) : ReplyInbox.AlreadyAnswered(inbox));
    }
}
