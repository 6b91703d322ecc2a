using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core;

/// <summary>
/// A private, bounded buffer that gets a copy of every message sent to its channel after it was
/// created. A full buffer drops its oldest message and counts it; the count is handed out once by
/// <see cref="TakeDropped"/> or <see cref="ReadBatch"/>. Reading works like <c>ChannelReader&lt;T&gt;</c>:
/// <see cref="TryRead"/> plus an awaitable <see cref="WaitToReadAsync"/>. All members are thread-safe;
/// messages come out in <c>seq</c> order.
/// </summary>
public abstract class Subscription
{
    /// <summary>The subscription id.</summary>
    public abstract string Id { get; }

    /// <summary>The channel it listens to.</summary>
    public abstract string Channel { get; }

    /// <summary>The owner tag given at creation, or null.</summary>
    public abstract string? Owner { get; }

    /// <summary>
    /// The channel's epoch (<see cref="ChannelEpoch"/>) when the subscription was made: the seqs it delivers belong to
    /// it, so a client that resumes later passes it back with the last seq it saw.
    /// </summary>
    public abstract string Epoch { get; }

    /// <summary>
    /// Null when the subscription was made without <see cref="SubscribeOptions.SinceSeq"/>. Otherwise true when
    /// nothing after <c>since_seq</c> is missing: the epoch is the channel's current one, <c>since_seq</c> is at most
    /// its last seq, and every message after it is still retained (none consumed, evicted or expired), so the replay
    /// is exact; false when the epoch changed (the whole retained backlog of the current epoch was replayed) or
    /// messages after <c>since_seq</c> are gone. The rule is in <see cref="ChannelEpoch"/>. Messages the subscription's
    /// own buffer later drops are reported as dropped on reads, not here.
    /// </summary>
    public abstract bool? Recovered { get; }

    /// <summary>The buffer's capacity.</summary>
    public abstract int BufferSize { get; }

    /// <summary>True once unsubscribed (by the client, its owner's end, or idle expiry).</summary>
    public abstract bool IsClosed { get; }

    /// <summary>Takes the oldest unexpired buffered message, if any.</summary>
    public abstract bool TryRead([NotNullWhen(true)] out QueueMessage? message);

    /// <summary>Moves up to <paramref name="limit"/> messages into <paramref name="into"/>, oldest first, and returns the dropped count since the previous read (then resets it).</summary>
    public abstract long ReadBatch(int limit, ICollection<QueueMessage> into);

    /// <summary>
    /// <see cref="ReadBatch"/> without blocking the caller's thread while the store works (the Redis store reads its
    /// buffer by one script, awaited). The default, used by the in-memory store, runs <see cref="ReadBatch"/> and
    /// completes synchronously. <paramref name="cancellationToken"/> is observed only before the read starts.
    /// </summary>
    public virtual ValueTask<long> ReadBatchAsync(int limit, ICollection<QueueMessage> into, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(cancellationToken);
        }

        try
        {
            return new ValueTask<long>(ReadBatch(limit, into));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<long>(e);
        }
    }

    /// <summary>Returns the number of messages lost since the previous read and resets it.</summary>
    public abstract long TakeDropped();

    /// <summary>
    /// Returns messages read from this subscription that could not be handed over: they go back to the head of
    /// the buffer in their order, before everything newer, and <paramref name="dropped"/> (the count that read
    /// took) is added back for the next read to report. Expired ones count as dropped; if the buffer filled
    /// meanwhile the returned messages are its oldest and are dropped first. A closed subscription takes nothing back.
    /// </summary>
    public abstract PutBackResult PutBack(IReadOnlyList<QueueMessage> messages, long dropped);

    /// <summary>
    /// Completes with true when a message is available, false when the subscription is closed.
    /// Cancelling only stops the wait: no message is taken.
    /// </summary>
    public abstract ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default);
}
