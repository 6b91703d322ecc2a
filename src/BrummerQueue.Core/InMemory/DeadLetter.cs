namespace BrummerQueue.Core.InMemory;

/// <summary>A message whose last allowed lease ended unacknowledged, to be stored in its dead-letter channel after the channel lock is released.</summary>
internal readonly record struct DeadLetter(QueueMessage Message, int Deliveries);
