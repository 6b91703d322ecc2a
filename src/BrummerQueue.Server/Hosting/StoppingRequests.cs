using BrummerQueue.Core;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// The shutdown rule for waiting requests (<c>queue_request</c>), beside <see cref="HostStopping.ReceiveAsync"/>'s for
/// waiting receives: when the host starts stopping, a request still waiting for its reply ends at once with
/// <c>store_unavailable</c> (HTTP 503: ask again once the server is back), and its reply channel vanishes.
/// </summary>
internal static class StoppingRequests
{
    /// <summary><see cref="MessageQueueRequests.RequestAsync"/> that also ends when the host stops.</summary>
    public static async Task<(SendResult Request, QueueMessage Reply)> RequestAsync(this HostStopping stopping, IMessageQueue queue, string channel, MessageDraft draft, double timeoutSeconds, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
        try
        {
            return await queue.RequestAsync(channel, draft, timeoutSeconds, linked.Token);
        }
        catch (OperationCanceledException) when (stopping.Token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QueueException(QueueErrorCodes.StoreUnavailable, null, $"the server is shutting down: the request to channel '{channel}' ended without a reply; ask again once the server is back");
        }
    }
}
