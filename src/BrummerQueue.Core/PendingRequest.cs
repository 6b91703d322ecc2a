namespace BrummerQueue.Core;

/// <summary>
/// A request made by <see cref="IMessageQueue.Request"/>: the request message, already sent with <c>reply_to</c> set to a
/// fresh private reply channel (<see cref="ReplyTo"/>), and the wait for its first reply. The reply channel takes exactly
/// one reply while the request waits; a second reply, or one after the request ended (answered, timed out, cancelled or
/// disposed), is refused with <c>not_found</c> naming the reply channel and why. Replies are handed to the request, not
/// stored in a channel: a reply channel is never listed and counts in no channel's figures. Thread-safe; dispose it
/// when done (the reply channel vanishes; <see cref="WaitAsync"/> disposes it too when it returns).
/// </summary>
public abstract class PendingRequest : IDisposable
{
    /// <summary>The request as stored in its channel, with its <see cref="QueueMessage.ReplyTo"/>, and how many subscriptions got it.</summary>
    public abstract SendResult Request { get; }

    /// <summary>The private reply channel, <c>_inbox.</c> and 26 random base32 characters.</summary>
    public string ReplyTo => Request.Message.ReplyTo!;

    /// <summary>
    /// Waits until the first reply arrives (returns it) or the request's timeout passes (returns null). Either way the
    /// request ends: the reply channel is closed, so later replies are refused. A reply accepted in the very instant the
    /// timeout passed is returned, not lost. Cancelling ends the request too (throws <see cref="OperationCanceledException"/>).
    /// </summary>
    public abstract ValueTask<QueueMessage?> WaitAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends the request: its reply channel vanishes, and a reply sent to it afterwards is refused.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the reply channel; called once or more (idempotent).</summary>
    protected abstract void Dispose(bool disposing);
}
