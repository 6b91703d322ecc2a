namespace BrummerQueue.Core;

/// <summary>Request/reply for the faces (MCP <c>queue_request</c>, the WebSocket, the HTTP API): one call that asks and waits.</summary>
public static class MessageQueueRequests
{
    /// <summary>
    /// Sends <paramref name="draft"/> to <paramref name="channel"/> as a request (<see cref="IMessageQueue.Request"/>) and
    /// waits up to <paramref name="timeoutSeconds"/> (more than 0, at most 300) for the first reply, which it returns with
    /// the request. No reply in time throws <see cref="QueueException"/> with code <see cref="QueueErrorCodes.Timeout"/>;
    /// cancelling throws <see cref="OperationCanceledException"/>. The reply channel is gone when this returns.
    /// </summary>
    public static async Task<(SendResult Request, QueueMessage Reply)> RequestAsync(this IMessageQueue queue, string channel, MessageDraft draft, double timeoutSeconds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var timeout = ReplyInbox.Timeout(timeoutSeconds);
        using var pending = queue.Request(channel, draft, timeout);
        var reply = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        return reply is null ? throw ReplyInbox.NoReply(channel, pending.Request, timeout) : (pending.Request, reply);
    }
}
