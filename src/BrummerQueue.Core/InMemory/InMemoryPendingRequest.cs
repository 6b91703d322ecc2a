using System.Collections.Concurrent;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// One waiting request of the in-memory store. <c>_outcome</c> is completed once, by whichever comes first: the first
/// reply (its message) or the end of the request (null: the timeout's timer, cancellation, dispose). So a reply is either
/// accepted and handed to the waiter, or refused; never accepted and then lost to a timeout that raced it. The timer ends
/// the request at its deadline even if nobody waits, so a reply channel never outlives its request.
/// </summary>
internal sealed class InMemoryPendingRequest : PendingRequest
{
    // Completed once (TrySetResult): the reply, or null when the request ended first. Continuations run asynchronously,
    // so a responder's send never runs the waiter's code.
    private readonly TaskCompletionSource<QueueMessage?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, InMemoryPendingRequest> _inboxes;
    private readonly ITimer _deadline;

    public InMemoryPendingRequest(string inbox, TimeSpan timeout, TimeProvider time, ConcurrentDictionary<string, InMemoryPendingRequest> inboxes)
    {
        Inbox = inbox;
        _inboxes = inboxes;

        // Registered before the timer starts (which removes it), and before the request is sent, so the fastest responder finds it.
        inboxes[inbox] = this;
        _deadline = time.CreateTimer(static state => ((InMemoryPendingRequest)state!).Dispose(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public string Inbox { get; }

    /// <summary>Set once by <see cref="InMemoryMessageQueue.Request"/> right after the send, before the request is handed out.</summary>
    public SendResult Sent { get; set; }

    public override SendResult Request => Sent;

    /// <summary>Accepts <paramref name="reply"/> unless the request has its reply or has ended (<paramref name="closed"/>).</summary>
    public bool TryAnswer(QueueMessage reply, out bool closed)
    {
        if (_outcome.TrySetResult(reply))
        {
            closed = false;
            return true;
        }

        closed = _outcome.Task.Result is null;
        return false;
    }

    public override async ValueTask<QueueMessage?> WaitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        _outcome.TrySetResult(null);
        _deadline.Dispose();
        _inboxes.TryRemove(new KeyValuePair<string, InMemoryPendingRequest>(Inbox, this));
    }
}
