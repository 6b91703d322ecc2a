using System.Collections.Concurrent;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Wildcard subscriptions (<see cref="ChannelPattern"/>). Matching happens when a channel is created or a pattern subscribed,
/// never on a send: each <see cref="ChannelState"/> holds the pattern subscriptions that match its name, and a send fans out to
/// that array as it does to its own subscriptions. <c>_patternsLock</c> guards <c>_patterns</c> and is held while a channel is
/// added to the map and while a pattern is attached to (or detached from) the existing channels, so every channel gets every
/// pattern that matches it exactly once: a channel created before a pattern subscribe is in the map when the subscribe walks it,
/// one created after finds the pattern in <c>_patterns</c>. Lock order: <c>_retireLock</c>, <c>_patternsLock</c>, a channel
/// lock, a pattern subscription's own lock.
/// </summary>
internal sealed partial class InMemoryMessageQueue
{
    private readonly Lock _patternsLock = new();

    // Guarded by _patternsLock. The open pattern subscriptions.
    private readonly List<PatternSubscription> _patterns = [];

    // The open pattern subscriptions by id (lock-free lookups).
    private readonly ConcurrentDictionary<string, PatternSubscription> _patternSubscriptions = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="created"/> to the map and attaches the matching pattern subscriptions to it first; returns the live channel.</summary>
    private ChannelState AddChannel(string name, ChannelState created)
    {
        lock (_patternsLock)
        {
            if (_patterns.Count > 0)
            {
                lock (created.Lock)
                {
                    foreach (var pattern in _patterns)
                    {
                        if (ChannelPattern.Matches(pattern.Channel, name))
                        {
                            created.AddPatternUnsynchronized(pattern);
                        }
                    }
                }
            }

            return _channels.GetOrAdd(name, created);
        }
    }

    private PatternSubscription SubscribePattern(string pattern, SubscribeOptions options)
    {
        var bufferSize = ArgumentRules.BufferSize(options.BufferSize, Options);
        ChannelPattern.ValidateSubscribe(pattern, options);

        if (options.Owner is { } owner)
        {
            ReserveOwnerSlot(owner);
        }

        var subscription = new PatternSubscription(SubscriptionIdGenerator.Next(NowMs()), pattern, options.Owner, bufferSize, _clock);
        lock (_patternsLock)
        {
            _patterns.Add(subscription);
            _patternSubscriptions[subscription.Id] = subscription;
            foreach (var (name, state) in _channels)
            {
                if (ChannelPattern.Matches(pattern, name))
                {
                    lock (state.Lock)
                    {
                        if (!state.IsRemoved)
                        {
                            state.AddPatternUnsynchronized(subscription);
                        }
                    }
                }
            }
        }

        return subscription;
    }

    private bool UnsubscribePattern(string subscriptionId)
    {
        if (!_patternSubscriptions.TryRemove(subscriptionId, out var subscription))
        {
            return false;
        }

        lock (_patternsLock)
        {
            _patterns.Remove(subscription);
            foreach (var (name, state) in _channels)
            {
                if (ChannelPattern.Matches(subscription.Channel, name))
                {
                    lock (state.Lock)
                    {
                        state.RemovePatternUnsynchronized(subscription);
                    }
                }
            }
        }

        // No lock is held: closing wakes its readers.
        subscription.Close();
        if (subscription.Owner is { } owner)
        {
            ReleaseOwnerSlot(owner);
        }

        return true;
    }

    private int UnsubscribePatternOwner(string owner)
    {
        var removed = 0;
        foreach (var (id, subscription) in _patternSubscriptions)
        {
            if (subscription.Owner == owner && UnsubscribePattern(id))
            {
                removed++;
            }
        }

        return removed;
    }

    private int SweepIdlePatterns(long now, long idleMs)
    {
        var removed = 0;
        foreach (var (id, subscription) in _patternSubscriptions)
        {
            if (subscription.IsIdle(now, idleMs) && UnsubscribePattern(id))
            {
                removed++;
            }
        }

        return removed;
    }

    private void AddPatternStats(List<SubscriptionStats> list, long idleMs)
    {
        foreach (var (_, subscription) in _patternSubscriptions)
        {
            if (!subscription.IsClosed)
            {
                list.Add(subscription.ReadStats(idleMs));
            }
        }
    }

    private async ValueTask<ReceiveResult> ReadPatternAsync(PatternSubscription subscription, int limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var messages = new List<QueueMessage>(Math.Min(limit, 16));
        var dropped = subscription.ReadBatch(limit, messages);
        if (messages.Count == 0 && timeout > TimeSpan.Zero)
        {
            var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
            while (messages.Count == 0)
            {
                var remaining = RemainingUntil(deadline);
                var more = remaining > TimeSpan.Zero && await subscription.WaitToReadAsync(remaining, cancellationToken).ConfigureAwait(false);
                dropped += subscription.ReadBatch(limit, messages);
                if (!more)
                {
                    break;
                }
            }
        }

        return new ReceiveResult(messages, dropped) { Source = messages.Count > 0 || dropped > 0 ? subscription : null };
    }
}
