namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Returns taken messages to the head of a bounded queue in their order (SPEC.md §1 "Reads never lose"): the expired
/// ones are left out, and when the queue filled meanwhile the returned ones are its oldest, so as many of them as do not
/// fit are left out too. Serves a channel's backlog and a subscription's buffer; the caller holds the lock guarding
/// <c>queue</c> and counts what was left out its own way.
/// </summary>
internal static class HeadReturn
{
    /// <summary>
    /// Puts <paramref name="messages"/> in front of what <paramref name="queue"/> holds (which is at most
    /// <paramref name="capacity"/>); returns how many were expired at <paramref name="nowMs"/> (Unix ms), how many did not
    /// fit, and the payload bytes of those put back.
    /// </summary>
    public static (int Expired, int Overflow, long Bytes) Put(Queue<QueueMessage> queue, IReadOnlyList<QueueMessage> messages, int capacity, long nowMs)
    {
        var expired = 0;
        foreach (var message in messages)
        {
            expired += message.IsExpiredAt(nowMs) ? 1 : 0;
        }

        // The queue never holds more than capacity, so the overflow never exceeds what is returned.
        var existing = queue.Count;
        var overflow = Math.Max(0, existing + messages.Count - expired - capacity);
        var skip = overflow;
        long bytes = 0;
        foreach (var message in messages)
        {
            if (message.IsExpiredAt(nowMs))
            {
                continue;
            }

            if (skip > 0)
            {
                skip--;
                continue;
            }

            queue.Enqueue(message);
            bytes += message.Payload.Length;
        }

        // The returned messages were appended after the existing ones: rotate the existing ones behind them.
        for (var i = 0; i < existing; i++)
        {
            queue.Enqueue(queue.Dequeue());
        }

        return (expired, overflow, bytes);
    }
}
