namespace BrummerQueue.Core.InMemory;

/// <summary>A message out on lease: until <paramref name="DeadlineMs"/> (Unix ms, the queue clock), held by <paramref name="Owner"/> (null: no owner).</summary>
internal readonly record struct LeaseEntry(QueueMessage Message, long DeadlineMs, string? Owner);
