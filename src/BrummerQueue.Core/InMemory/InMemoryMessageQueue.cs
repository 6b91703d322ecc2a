using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The in-memory store. Shared state and what guards it:
/// <list type="bullet">
/// <item><c>_channels</c>: a <see cref="ConcurrentDictionary{TKey,TValue}"/>; lookups are lock-free. Each
/// <see cref="ChannelState"/> guards its own backlog, counters and subscription buffers with its own lock.</item>
/// <item><c>_budget</c>: lock-free retained-byte counter (<see cref="ByteBudget"/>).</item>
/// <item><c>_channelCount</c>: Interlocked; reserved before a channel is added, so the limit holds under races.</item>
/// <item><c>_subscriptions</c>: a concurrent dictionary by id; per-owner counts under <c>_ownersLock</c>.</item>
/// <item><c>_retired</c>: the totals of removed channels, an immutable <see cref="RetiredTotals"/> replaced (under
/// <c>_retireLock</c>, which serializes sweeps) each time a channel is removed, and when messages taken from a
/// removed channel are put back into its successor (see <c>PutBackToSuccessor</c>). <see cref="GetStats"/> reads it,
/// walks the channels without their locks, and retries if it was replaced meanwhile, so totals never count a
/// removed channel twice or not at all. Lock order: <c>_retireLock</c>, then a channel lock.</item>
/// <item><c>_sorted</c>: the channels sorted by name, cached for stats and rebuilt when <c>_channelSetVersion</c>
/// (bumped after every add and removal) has moved.</item>
/// <item>Enumerating <c>_channels</c> uses the dictionary's lock-free enumerator, never <c>.Values</c> (which locks it whole).</item>
/// </list>
/// No task completion, event or callback runs under a lock: signals are collected in a <see cref="WakeList"/>
/// and completed after the channel lock is released.
/// </summary>
internal sealed partial class InMemoryMessageQueue : IMessageQueue
{

    private readonly TimeProvider _time;
    private readonly QueueClock _clock;
    private readonly long _startMs;
    private readonly ByteBudget _budget;
    private readonly ConcurrentDictionary<string, ChannelState> _channels = new(StringComparer.Ordinal);
    private readonly ExpirySweeper _sweeper;

    // Interlocked. Channels in _channels plus reservations of channels being added.
    private int _channelCount;

    // Interlocked. Moves after every add to and removal from _channels (after the map changed), so that
    // a cached sorted view of the map (see GetStats) knows when it is stale.
    private int _channelSetVersion;

    public InMemoryMessageQueue(QueueOptions options, TimeProvider time)
    {
        Options = options;
        _time = time;
        _leaseTimer = new DeadlineTimer(time, OnLeaseTimer);
        _clock = new QueueClock(time);
        _startMs = NowMs();
        _budget = new ByteBudget(options.MaxTotalBytes);
        _sweeper = new ExpirySweeper(() => Sweep(), time, options.SweepInterval);
    }

    public QueueOptions Options { get; }

    public event Action<QueueMessage>? MessageStored;

    public event Action<QueueException>? LimitHit;

    public SendResult Send(string channel, MessageDraft draft)
    {
        // The draft's rules, the payload rule among them, checked here once for every face.
        if (ArgumentRules.Draft(channel, draft, Options, out var type, out var ttl) is { } tooLarge)
        {
            throw Refused(tooLarge);
        }

        var payload = draft.Payload;
        if (ReplyInbox.IsInbox(channel))
        {
            return SendReply(channel, draft, type, ttl);
        }

        if (!TryGetExisting(channel, out var state))
        {
            // A new channel evicts nothing, so a send that cannot fit is refused before the channel is made.
            if (!FitsBudget(payload.Length) && (PruneAllExpired() == 0 || !FitsBudget(payload.Length)))
            {
                throw QueueFull();
            }

            state = GetOrCreateChannel(channel!);
        }

        var wake = default(WakeList);
        QueueMessage? message = null;
        var deliveredTo = 0;
        var pruned = false;
        while (message is null)
        {
            bool removed;
            lock (state.Lock)
            {
                removed = state.IsRemoved;
                if (!removed)
                {
                    message = state.TryAppendUnsynchronized(type, payload, ttl, NowMs(), ref wake, out deliveredTo, draft.ReplyTo, draft.CorrelationId);
                }
            }

            if (removed)
            {
                state = ReplaceRemoved(state);
            }
            else if (message is null)
            {
                // Over budget: expired messages elsewhere may still hold bytes; prune them once, then refuse.
                if (pruned || PruneAllExpired() == 0)
                {
                    throw QueueFull();
                }

                pruned = true;
            }
        }

        // The channel lock is released: complete the waiters' signals and raise the event.
        wake.WakeAll();
        MessageStored?.Invoke(message);
        return new SendResult(message, deliveredTo);
    }

    public ValueTask<SendResult> SendAsync(string channel, MessageDraft draft, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SendResult>(cancellationToken);
        }

        // Nothing here waits: completes synchronously, and the result is wrapped without an allocation.
        try
        {
            return new ValueTask<SendResult>(Send(channel, draft));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<SendResult>(e);
        }
    }

    public int Receive(string channel, int limit, bool peek, ICollection<QueueMessage> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentRules.Limit(limit);
        if (!TryGetExisting(channel, out var state))
        {
            return 0;
        }

        lock (state.Lock)
        {
            // A removed channel was empty, so reading it yields nothing either way.
            return state.TakeUnsynchronized(limit, peek, NowMs(), into);
        }
    }

    public int PeekNewest(string channel, int limit, ICollection<QueueMessage> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentRules.Limit(limit);
        if (!TryGetExisting(channel, out var state))
        {
            return 0;
        }

        lock (state.Lock)
        {
            return state.PeekNewestUnsynchronized(limit, NowMs(), into);
        }
    }

    public async ValueTask<ReceiveResult> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.Channel is null) == (request.SubscriptionId is null))
        {
            throw QueueException.Invalid("channel", "exactly one of channel and subscription_id is required");
        }

        ArgumentRules.Limit(request.Limit);
        var timeout = ArgumentRules.Timeout(request.TimeoutSeconds);
        LeaseRules.AckTimeoutMs(request);
        if (request.SubscriptionId is not null)
        {
            if (request.Peek)
            {
                throw QueueException.Invalid("peek", "peek is only allowed with channel, not with subscription_id");
            }

            return await ReadSubscriptionAsync(request.SubscriptionId, request.Limit, request.Blocking ? timeout : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }

        var channel = request.Channel!;
        var messages = new List<QueueMessage>(Math.Min(request.Limit, 16));
        if (!request.Blocking || timeout == TimeSpan.Zero)
        {
            if (!TryGetExisting(channel, out var existing))
            {
                return new ReceiveResult(messages, null);
            }

            lock (existing.Lock)
            {
                // A removed channel was empty, so reading it yields nothing either way.
                TakeOrLeaseUnsynchronized(existing, request, messages);
            }

            return Taken(messages, request, existing);
        }

        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        var state = GetOrCreateChannel(channel);
        while (true)
        {
            Task? arrival = null;
            lock (state.Lock)
            {
                if (!state.IsRemoved && TakeOrLeaseUnsynchronized(state, request, messages) == 0)
                {
                    arrival = state.BeginWaitUnsynchronized();
                }
            }

            if (messages.Count > 0)
            {
                return Taken(messages, request, state);
            }

            if (arrival is null)
            {
                state = ReplaceRemoved(state);
                continue;
            }

            // Waiting takes nothing, so a cancelled or timed-out wait loses no message.
            var remaining = RemainingUntil(deadline);
            try
            {
                if (remaining > TimeSpan.Zero)
                {
                    await arrival.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (TimeoutException)
            {
            }
            finally
            {
                lock (state.Lock)
                {
                    state.EndWaitUnsynchronized();
                }
            }

            if (RemainingUntil(deadline) <= TimeSpan.Zero)
            {
                lock (state.Lock)
                {
                    TakeOrLeaseUnsynchronized(state, request, messages);
                }

                return Taken(messages, request, state);
            }
        }
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        DisposeLeaseTimer();
    }

    /// <summary>A channel receive's result; it names the channel incarnation as its source when it consumed something, for <see cref="PutBack"/>.</summary>
    private static ReceiveResult Taken(List<QueueMessage> messages, bool peek, ChannelState state) =>
        new(messages, null) { Source = peek || messages.Count == 0 ? null : state };

    /// <summary>
    /// Looks up a channel that exists. A name found in the map is valid; one that is not found is
    /// validated here, so a bad name is refused even when there is nothing to read.
    /// </summary>
    private bool TryGetExisting(string? channel, [NotNullWhen(true)] out ChannelState? state)
    {
        if (_channels.TryGetValue(channel ?? string.Empty, out state))
        {
            return true;
        }

        ArgumentRules.Channel(channel);
        return false;
    }

    /// <summary>
    /// The live channel of that name, made if there is none: in a new epoch, or in <paramref name="epoch"/> when
    /// given (a put-back continuing the incarnation that cleanup removed under it).
    /// </summary>
    private ChannelState GetOrCreateChannel(string channel, string? epoch = null)
    {
        if (TryGetExisting(channel, out var state))
        {
            return state;
        }

        while (true)
        {
            if (Interlocked.Increment(ref _channelCount) > Options.MaxChannels)
            {
                Interlocked.Decrement(ref _channelCount);
                if (_channels.TryGetValue(channel!, out state))
                {
                    return state;
                }

                throw Refused(QueueRefusals.TooManyChannels(Options.MaxChannels, channel!));
            }

            var created = ChannelState.Create(channel!, epoch ?? ChannelEpoch.New(), Options.ChannelCapacity, _budget);
            state = AddChannel(channel!, created);
            if (ReferenceEquals(state, created))
            {
                Interlocked.Increment(ref _channelSetVersion);
            }
            else
            {
                Interlocked.Decrement(ref _channelCount);
            }

            return state;
        }
    }

    /// <summary>Called when <paramref name="removed"/> was found removed under its lock: drops it from the map (if cleanup has not yet) and gets the live channel.</summary>
    private ChannelState ReplaceRemoved(ChannelState removed)
    {
        if (_channels.TryRemove(KeyValuePair.Create(removed.Name, removed)))
        {
            Interlocked.Decrement(ref _channelCount);
            Interlocked.Increment(ref _channelSetVersion);
        }

        return GetOrCreateChannel(removed.Name);
    }

    private bool FitsBudget(long bytes) => _budget.Used + bytes <= _budget.Limit;

    private QueueException QueueFull() => Refused(QueueRefusals.QueueFull(_budget.Limit));

    /// <summary>Raises <see cref="LimitHit"/> for <paramref name="refusal"/> (callers hold no lock) and returns it to throw.</summary>
    private QueueException Refused(QueueException refusal)
    {
        LimitHit?.Invoke(refusal);
        return refusal;
    }

    /// <summary>Removes expired messages from every channel, so that their bytes no longer count against the budget.</summary>
    private long PruneAllExpired()
    {
        var now = NowMs();
        long removed = 0;
        foreach (var (_, state) in _channels)
        {
            lock (state.Lock)
            {
                removed += state.PruneExpiredUnsynchronized(now);
            }
        }

        return removed;
    }

    private TimeSpan RemainingUntil(long deadline) => _time.GetElapsedTime(_time.GetTimestamp(), deadline);

    private long NowMs() => _clock.NowMs();
}
