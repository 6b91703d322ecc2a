namespace BrummerQueue.Core;

/// <summary>The outcome of a successful send.</summary>
/// <param name="Message">The stored message.</param>
/// <param name="DeliveredTo">How many subscriptions got a copy.</param>
public readonly record struct SendResult(QueueMessage Message, int DeliveredTo);
