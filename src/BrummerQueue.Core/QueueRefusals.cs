namespace BrummerQueue.Core;

/// <summary>The refusals every store raises for the same limits, with one wording (SPEC.md §5 limits).</summary>
internal static class QueueRefusals
{
    public static QueueException MessageTooLarge(int limit, long size) => QueueException.LimitReached(
        QueueErrorCodes.MessageTooLarge,
        "payload",
        nameof(QueueOptions.MaxMessageBytes),
        $"message must be at most {limit} bytes serialized; this one is about {size}");

    public static QueueException TooManyChannels(int limit, string channel) => QueueException.LimitReached(
        QueueErrorCodes.QueueFull,
        "channel",
        nameof(QueueOptions.MaxChannels),
        $"the queue holds {limit} channels, its most; channel '{channel}' cannot be made. Receive from or unsubscribe idle channels so cleanup can remove them");

    public static QueueException QueueFull(long limit) => QueueException.LimitReached(
        QueueErrorCodes.QueueFull,
        null,
        nameof(QueueOptions.MaxTotalBytes),
        $"retained payload would exceed the limit of {limit} bytes; receive or let messages expire, then retry");

    public static QueueException TooManySubscriptions(int limit) => QueueException.LimitReached(
        QueueErrorCodes.TooManySubscriptions,
        "subscription",
        nameof(QueueOptions.MaxSubscriptionsPerOwner),
        $"subscription limit of {limit} per connection or session reached; unsubscribe before subscribing again");

    public static QueueException SubscriptionNotFound(string subscriptionId) => new(
        QueueErrorCodes.NotFound,
        "subscription_id",
        $"subscription_id '{subscriptionId}' does not exist: it was never created, was unsubscribed, or expired after being idle");
}
