using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace BrummerQueue.Core.InMemory;

internal sealed partial class InMemoryMessageQueue
{
    private readonly ConcurrentDictionary<string, InMemorySubscription> _subscriptions = new(StringComparer.Ordinal);

    // Guards _ownerCounts. Taken only by subscribe and unsubscribe, never together with a channel lock.
    private readonly Lock _ownersLock = new();
    private readonly Dictionary<string, int> _ownerCounts = new(StringComparer.Ordinal);

    public Subscription Subscribe(string channel, SubscribeOptions? options = null)
    {
        options ??= new SubscribeOptions();
        if (ChannelPattern.IsPattern(channel))
        {
            return SubscribePattern(channel, options);
        }

        var bufferSize = ArgumentRules.BufferSize(options.BufferSize, Options);
        ArgumentRules.SinceSeq(options.SinceSeq);
        ChannelEpoch.Validate(options.Epoch, options.SinceSeq);
        var state = GetOrCreateChannel(channel);
        if (options.Owner is { } owner)
        {
            ReserveOwnerSlot(owner);
        }

        try
        {
            var id = SubscriptionIdGenerator.Next(NowMs());
            while (true)
            {
                lock (state.Lock)
                {
                    if (!state.IsRemoved)
                    {
                        var subscription = new InMemorySubscription(id, state, options.Owner, bufferSize, _clock);
                        if (options.SinceSeq is { } sinceSeq)
                        {
                            subscription.SetRecoveredUnsynchronized(state.ReplayUnsynchronized(subscription, sinceSeq, options.Epoch, NowMs()));
                        }

                        state.AddSubscriptionUnsynchronized(subscription);
                        _subscriptions[id] = subscription;
                        return subscription;
                    }
                }

                state = ReplaceRemoved(state);
            }
        }
        catch when (options.Owner is not null)
        {
            ReleaseOwnerSlot(options.Owner);
            throw;
        }
    }

    public bool TryGetSubscription(string subscriptionId, [NotNullWhen(true)] out Subscription? subscription)
    {
        if (subscriptionId is not null && _subscriptions.TryGetValue(subscriptionId, out var found))
        {
            subscription = found;
            return true;
        }

        if (subscriptionId is not null && _patternSubscriptions.TryGetValue(subscriptionId, out var pattern))
        {
            subscription = pattern;
            return true;
        }

        subscription = null;
        return false;
    }

    public bool Unsubscribe(string subscriptionId)
    {
        if (subscriptionId is null || !_subscriptions.TryRemove(subscriptionId, out var subscription))
        {
            return subscriptionId is not null && UnsubscribePattern(subscriptionId);
        }

        TaskCompletionSource? signal;
        var state = subscription.ChannelState;
        lock (state.Lock)
        {
            signal = subscription.CloseUnsynchronized();
            state.RemoveSubscriptionUnsynchronized(subscription);
        }

        // The channel lock is released: wake readers so they see the subscription closed.
        signal?.TrySetResult();
        if (subscription.Owner is { } owner)
        {
            ReleaseOwnerSlot(owner);
        }

        return true;
    }

    public int UnsubscribeOwner(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ReleaseLeasesOf(owner);
        var removed = 0;
        foreach (var (id, subscription) in _subscriptions)
        {
            if (subscription.Owner == owner && Unsubscribe(id))
            {
                removed++;
            }
        }

        return removed + UnsubscribePatternOwner(owner);
    }

    private async ValueTask<ReceiveResult> ReadSubscriptionAsync(string subscriptionId, int limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_subscriptions.TryGetValue(subscriptionId, out var subscription))
        {
            if (_patternSubscriptions.TryGetValue(subscriptionId, out var pattern))
            {
                return await ReadPatternAsync(pattern, limit, timeout, cancellationToken).ConfigureAwait(false);
            }

            throw QueueRefusals.SubscriptionNotFound(subscriptionId);
        }

        var messages = new List<QueueMessage>(Math.Min(limit, 16));
        var dropped = subscription.ReadBatch(limit, messages);
        if (messages.Count > 0 || timeout == TimeSpan.Zero)
        {
            return Read(messages, dropped, subscription);
        }

        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (messages.Count == 0)
        {
            var remaining = RemainingUntil(deadline);
            if (remaining <= TimeSpan.Zero || !await subscription.WaitToReadAsync(remaining, cancellationToken).ConfigureAwait(false))
            {
                dropped += subscription.ReadBatch(limit, messages);
                break;
            }

            dropped += subscription.ReadBatch(limit, messages);
        }

        return Read(messages, dropped, subscription);
    }

    /// <summary>A subscription read's result; it names the subscription as its source when it took something (messages or the dropped count), for <see cref="PutBack"/>.</summary>
    private static ReceiveResult Read(List<QueueMessage> messages, long dropped, InMemorySubscription subscription) =>
        new(messages, dropped) { Source = messages.Count > 0 || dropped > 0 ? subscription : null };

    private void ReserveOwnerSlot(string owner)
    {
        QueueException? refusal = null;
        lock (_ownersLock)
        {
            _ownerCounts.TryGetValue(owner, out var count);
            if (count >= Options.MaxSubscriptionsPerOwner)
            {
                refusal = QueueRefusals.TooManySubscriptions(Options.MaxSubscriptionsPerOwner);
            }
            else
            {
                _ownerCounts[owner] = count + 1;
            }
        }

        // _ownersLock is released: the event runs outside every lock.
        if (refusal is not null)
        {
            throw Refused(refusal);
        }
    }

    private void ReleaseOwnerSlot(string owner)
    {
        lock (_ownersLock)
        {
            if (_ownerCounts.TryGetValue(owner, out var count))
            {
                if (count <= 1)
                {
                    _ownerCounts.Remove(owner);
                }
                else
                {
                    _ownerCounts[owner] = count - 1;
                }
            }
        }
    }
}
