using BrummerQueue.Core;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// A subscription as one WebSocket connection sees it: the engine's <see cref="Core.Subscription"/>
/// and whether the client ended it.
/// </summary>
internal sealed class SocketSubscription(Subscription subscription)
{
    // Set once by the reader when the client unsubscribes; read by the writer, which skips pushes
    // of an ended subscription. Volatile so that the writer sees it without a lock. The flag is set
    // before the `unsubscribed` reply is queued and the writer takes replies first, so no push of
    // the subscription follows that reply; one taken just before may precede it (benign race).
    private volatile bool _ended;

    public Subscription Subscription { get; } = subscription;

    public string Id => Subscription.Id;

    public bool Ended => _ended;

    public void End() => _ended = true;
}
