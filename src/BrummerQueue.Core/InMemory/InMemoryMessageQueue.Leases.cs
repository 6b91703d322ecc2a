using System.Collections.Concurrent;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Acknowledged receive (docs/protocol.md "Acknowledged receive"). Shared state and what guards it:
/// <list type="bullet">
/// <item><c>_leasedChannels</c>: the channels with leases out, a concurrent set; an entry is added and removed only under
/// that channel's lock, so it is present whenever the channel holds a lease.</item>
/// <item><c>_leaseTimer</c>: a <see cref="DeadlineTimer"/> (thread-safe) at the earliest lease deadline (via the injected
/// <see cref="TimeProvider"/>), so a lease ends promptly, not at the next sweep.</item>
/// </list>
/// Dead letters are stored after the channel lock is released (no code holds two channel locks).
/// </summary>
internal sealed partial class InMemoryMessageQueue
{
    private readonly ConcurrentDictionary<ChannelState, byte> _leasedChannels = new();
    private readonly DeadlineTimer _leaseTimer;

    public AckResult Ack(string channel, IReadOnlyList<string> messageIds, string? owner = null)
    {
        LeaseRules.MessageIds(messageIds);
        var notLeased = new List<string>();
        if (!TryGetExisting(channel, out var state))
        {
            notLeased.AddRange(messageIds);
            return new AckResult(0, notLeased);
        }

        var acked = 0;
        lock (state.Lock)
        {
            foreach (var text in messageIds)
            {
                if (Guid.TryParse(text, out var id) && state.TryAckUnsynchronized(id, owner))
                {
                    acked++;
                }
                else
                {
                    notLeased.Add(text);
                }
            }

            if (state.LeaseCountUnsynchronized == 0)
            {
                _leasedChannels.TryRemove(state, out _);
            }
        }

        return new AckResult(acked, notLeased);
    }

    /// <summary>A consuming or leasing take for <paramref name="request"/>, under <paramref name="state"/>'s lock.</summary>
    private int TakeOrLeaseUnsynchronized(ChannelState state, ReceiveRequest request, List<QueueMessage> into)
    {
        var leaseMs = LeaseRules.AckTimeoutMs(request);
        if (leaseMs == 0)
        {
            return state.TakeUnsynchronized(request.Limit, request.Peek, NowMs(), into);
        }

        var now = NowMs();
        var taken = state.LeaseUnsynchronized(request.Limit, now, now + leaseMs, request.Owner, into);
        if (taken > 0)
        {
            _leasedChannels.TryAdd(state, 0);
        }

        return taken;
    }

    /// <summary>A channel receive's result; a leased one names its channel for a put-back and sets the lease timer (no lock held).</summary>
    private ReceiveResult Taken(List<QueueMessage> messages, ReceiveRequest request, ChannelState state)
    {
        if (request.AckTimeoutSeconds is null)
        {
            return Taken(messages, request.Peek, state);
        }

        if (messages.Count == 0)
        {
            return new ReceiveResult(messages, null);
        }

        // At or after the deadline the take recorded, so the timer never fires before it.
        ScheduleLeaseTimer(NowMs() + LeaseRules.AckTimeoutMs(request));
        return new ReceiveResult(messages, null) { Source = new LeasedTake(state) };
    }

    /// <summary>Put-back of a leased receive that could not hand its messages over.</summary>
    private PutBackResult ReturnUndelivered(LeasedTake leased, IReadOnlyList<QueueMessage> messages)
    {
        var wake = default(WakeList);
        PutBackResult result;
        var state = leased.State;
        lock (state.Lock)
        {
            // A channel with leases out is never removed, so this incarnation is live.
            result = state.UnleaseUnsynchronized(messages, NowMs(), ref wake);
            if (state.LeaseCountUnsynchronized == 0)
            {
                _leasedChannels.TryRemove(state, out _);
            }
        }

        wake.WakeAll();
        return result;
    }

    /// <summary>Ends every lease held by <paramref name="owner"/> (its MCP session or WebSocket ended) as if it had run out.</summary>
    private void ReleaseLeasesOf(string owner)
    {
        foreach (var (state, _) in _leasedChannels)
        {
            EndLeases(state, owner);
        }
    }

    /// <summary>Ends the leases past their deadline in every channel and sets the timer for the next deadline.</summary>
    private void ExpireDueLeases()
    {
        _leaseTimer.Reset();

        var next = long.MaxValue;
        foreach (var (state, _) in _leasedChannels)
        {
            next = Math.Min(next, EndLeases(state, null));
        }

        if (next != long.MaxValue)
        {
            ScheduleLeaseTimer(next);
        }
    }

    /// <summary>Ends one channel's due leases (or <paramref name="owner"/>'s); stores the dead letters; returns the earliest deadline left.</summary>
    private long EndLeases(ChannelState state, string? owner)
    {
        var wake = default(WakeList);
        var dead = new List<DeadLetter>();
        long next;
        lock (state.Lock)
        {
            state.EndLeasesUnsynchronized(NowMs(), owner, Options.MaxDeliveries, dead, ref wake);
            next = state.EarliestLeaseDeadlineUnsynchronized;
            if (state.LeaseCountUnsynchronized == 0)
            {
                _leasedChannels.TryRemove(state, out _);
            }
        }

        // The channel lock is released: wake the receivers, then store the dead letters.
        wake.WakeAll();
        foreach (var letter in dead)
        {
            StoreDeadLetter(letter);
        }

        return next;
    }

    /// <summary>
    /// Stores a dead letter in its channel (<see cref="DeadLetters"/>) without the byte cap or size checks: the message was
    /// stored and acknowledged before. Only the channel limit can refuse it; then it counts as dropped in the dead channel's
    /// place (it was counted dead-lettered on its own channel).
    /// </summary>
    private void StoreDeadLetter(DeadLetter letter)
    {
        var draft = DeadLetters.Draft(letter.Message, letter.Deliveries);
        ChannelState state;
        try
        {
            state = GetOrCreateChannel(DeadLetters.ChannelFor(letter.Message.Channel));
        }
        catch (QueueException)
        {
            return;
        }

        var wake = default(WakeList);
        QueueMessage? stored = null;
        while (stored is null)
        {
            bool removed;
            lock (state.Lock)
            {
                removed = state.IsRemoved;
                if (!removed)
                {
                    stored = state.TryAppendUnsynchronized(draft.Type!, draft.Payload, (int)draft.TtlSeconds!.Value, NowMs(), ref wake, out _, force: true);
                }
            }

            if (removed)
            {
                state = ReplaceRemoved(state);
            }
        }

        wake.WakeAll();
        MessageStored?.Invoke(stored);
    }

    /// <summary>Sets the lease timer to fire at <paramref name="deadlineMs"/> unless it already fires earlier.</summary>
    private void ScheduleLeaseTimer(long deadlineMs) => _leaseTimer.Schedule(deadlineMs, NowMs());

    private void OnLeaseTimer()
    {
        try
        {
            ExpireDueLeases();
        }
        catch (Exception e) when (e is InvalidOperationException or QueueException)
        {
            // A timer callback is a boundary: nothing to answer. The next sweep ends the leases instead.
        }
    }

    private void DisposeLeaseTimer() => _leaseTimer.Dispose();
}
