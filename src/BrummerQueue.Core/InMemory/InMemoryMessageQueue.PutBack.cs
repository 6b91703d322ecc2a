using System.Diagnostics;

namespace BrummerQueue.Core.InMemory;

internal sealed partial class InMemoryMessageQueue
{
    public PutBackResult PutBack(ReceiveResult taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        return taken.Source switch
        {
            null => PutBackResult.None,
            ChannelState origin => PutBackToChannel(origin, taken.Messages),
            InMemorySubscription subscription => subscription.PutBack(taken.Messages, taken.Dropped ?? 0),
            PatternSubscription pattern => pattern.PutBack(taken.Messages, taken.Dropped ?? 0),
            LeasedTake leased => ReturnUndelivered(leased, taken.Messages),
            _ => throw new ArgumentException("the result was not returned by this queue's ReceiveAsync", nameof(taken)),
        };
    }

    private PutBackResult PutBackToChannel(ChannelState origin, IReadOnlyList<QueueMessage> messages)
    {
        if (messages.Count == 0)
        {
            return PutBackResult.None;
        }

        var wake = default(WakeList);
        PutBackResult result = default;
        bool removed;
        lock (origin.Lock)
        {
            removed = origin.IsRemoved;
            if (!removed)
            {
                result = origin.RestoreUnsynchronized(messages, NowMs(), transferred: false, ref wake);
            }
        }

        if (removed)
        {
            result = PutBackToSuccessor(origin, messages, ref wake);
        }

        // The channel lock is released: wake the receivers waiting for a message.
        wake.WakeAll();
        return result;
    }

    /// <summary>
    /// Cleanup removed the channel the messages came from (the take left it empty and idle) and retired its
    /// figures, which count them as consumed. They move to the live channel of that name (created if need be)
    /// with their counts: out of the retired totals, into the live channel as sent. If the channel limit stops
    /// the channel from being recreated, they count as dropped. A channel recreated here keeps the removed one's
    /// epoch: it continues that incarnation (its seqs go on from the returned messages), so a client that saw them
    /// resumes without a false gap.
    /// </summary>
    private PutBackResult PutBackToSuccessor(ChannelState origin, IReadOnlyList<QueueMessage> messages, ref WakeList wake)
    {
        // Cleanup retires channels only under _retireLock, so while it is held no channel leaves the map and
        // the one found or created here stays live. Lock order: _retireLock, then the channel lock.
        lock (_retireLock)
        {
            ChannelState live;
            try
            {
                live = GetOrCreateChannel(origin.Name, origin.Epoch);
            }
            catch (QueueException e) when (e.Limit == nameof(QueueOptions.MaxChannels))
            {
                Volatile.Write(ref _retired, _retired.DroppedOnPutBack(messages.Count));
                return new PutBackResult(0, 0, messages.Count);
            }

            lock (live.Lock)
            {
                Debug.Assert(!live.IsRemoved, "no channel is removed while _retireLock is held");
                var result = live.RestoreUnsynchronized(messages, NowMs(), transferred: true, ref wake);

                // Published after the live channel's counters were written (a release): a stats call that sees
                // the new totals also sees the messages in the live channel. One that walks the channel between
                // the two may count them twice; it sees the totals change and retries (GetStats).
                Volatile.Write(ref _retired, _retired.MovedToLive(messages.Count));
                return result;
            }
        }
    }
}
