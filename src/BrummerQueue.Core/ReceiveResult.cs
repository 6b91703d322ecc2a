namespace BrummerQueue.Core;

/// <summary>Messages a receive returned, oldest first.</summary>
/// <param name="Messages">The messages, oldest first; empty when none arrived in time.</param>
/// <param name="Dropped">For a subscription, messages lost since its previous read (buffer overflow or expiry); null for a channel.</param>
public sealed record ReceiveResult(IReadOnlyList<QueueMessage> Messages, long? Dropped);
