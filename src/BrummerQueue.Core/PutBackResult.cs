namespace BrummerQueue.Core;

/// <summary>What <see cref="IMessageQueue.PutBack"/> did with the messages it was given.</summary>
/// <param name="Restored">Messages back at the head of the backlog or subscription buffer, readable again.</param>
/// <param name="Expired">Messages whose TTL passed meanwhile: not resurrected, counted as expired (for a subscription, in its dropped count).</param>
/// <param name="Dropped">Messages that no longer fit (the backlog or buffer filled meanwhile, and they are its oldest), a closed subscription's, or a channel that could not be recreated; counted as dropped.</param>
public readonly record struct PutBackResult(int Restored, int Expired, int Dropped)
{
    /// <summary>Nothing to put back (a peek, an empty result, or an already closed subscription with nothing pending).</summary>
    public static PutBackResult None => default;
}
