using BrummerQueue.Core;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// What one consuming <c>queue_receive</c> took, until its response is known to be sent. Both the request's
/// delivery record (<see cref="ReceiveDelivery"/>) and, for an attach-mode caller, its session's receipt may
/// point at it, so <see cref="PutBack"/> returns the messages at most once. Thread-safe.
/// </summary>
internal sealed class HeldReceive(IMessageQueue queue, ReceiveResult taken)
{
    // 0 until put back, then 1 (Interlocked): the first caller puts back, later ones do nothing.
    private int _putBack;

    /// <summary>Returns the messages to the queue unless that was done already; null when it was.</summary>
    public PutBackResult? PutBack() =>
        Interlocked.Exchange(ref _putBack, 1) == 0 ? queue.PutBack(taken) : null;
}
