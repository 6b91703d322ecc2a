namespace BrummerQueue.Core;

/// <summary>Messages a receive returned, oldest first.</summary>
/// <param name="Messages">The messages, oldest first; empty when none arrived in time.</param>
/// <param name="Dropped">For a subscription, messages lost since its previous read (buffer overflow or expiry); null for a channel.</param>
public sealed record ReceiveResult(IReadOnlyList<QueueMessage> Messages, long? Dropped)
{
    /// <summary>
    /// Opaque and store-defined: what the messages (and, for a subscription, the dropped count) were taken
    /// from, which <see cref="IMessageQueue.PutBack"/> needs to return them (for a channel, the incarnation
    /// of the channel, which cleanup may have removed meanwhile). Null when nothing was taken: a peek, or an
    /// empty result with nothing dropped.
    /// </summary>
    public object? Source { get; init; }
}
