using BrummerQueue.Core;
using BrummerQueue.Core.InMemory;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// Request/reply across nodes (docs/scale-out.md "Request/reply"): a request's reply channel is a hash in Redis
/// (<see cref="InboxKey"/>) with an expiry, so a request waiting on one node is answered through any other; the reply
/// script accepts a reply atomically only while the request waits and has none yet, and wakes the waiting node.
/// </summary>
internal sealed partial class RedisMessageQueue
{
    /// <summary>How much longer than its request's timeout a reply channel is kept in Redis, should its node die.</summary>
    private static readonly TimeSpan s_inboxGrace = TimeSpan.FromSeconds(60);

    public PendingRequest Request(string channel, MessageDraft draft, TimeSpan timeout)
    {
        var inbox = ReplyInbox.NewName();
        var key = InboxKey(inbox);
        Call(() => LuaScripts.OpenInbox.Evaluate(_db, [key], [(long)(timeout + s_inboxGrace).TotalMilliseconds]));
        var pending = new RedisPendingRequest(this, inbox, key, timeout);
        try
        {
            pending.Sent = Send(channel, ReplyInbox.RequestDraft(draft, inbox, timeout));
        }
        catch
        {
            pending.Dispose();
            throw;
        }

        return pending;
    }

    /// <summary>The key of a reply channel: <c>{prefix}{_inbox.…}:inbox</c>.</summary>
    internal RedisKey InboxKey(string inbox) => _keys.ChannelPrefix(inbox) + "inbox";

    /// <summary>A send to a reply channel: the reply of the request waiting on it, if one still does and has none yet.</summary>
    private SendResult SendReply(string inbox, MessageDraft draft)
    {
        if (ArgumentRules.Draft(inbox, draft, Options, out var type, out var ttl) is { } tooLarge)
        {
            throw Refused(tooLarge);
        }

        var now = NowMs();
        var reply = new QueueMessage(MessageIdGenerator.Next(now), inbox, 1, type, draft.Payload, now, ttl)
        {
            ReplyTo = draft.ReplyTo,
            CorrelationId = draft.CorrelationId,
        };
        var values = new RedisValue[] { MessageBlob.Full(reply), _keys.Notify(inbox).ToString(), inbox };
        var status = (string?)Call(() => LuaScripts.Reply.Evaluate(_db, [InboxKey(inbox)], values));
        switch (status)
        {
            case "gone":
                throw ReplyInbox.Gone(inbox);
            case "answered":
                throw ReplyInbox.AlreadyAnswered(inbox);
        }

        _signals.Wake(inbox);
        return new SendResult(reply, 1);
    }
}
