namespace BrummerQueue.Core;

/// <summary>What one cleanup pass removed.</summary>
/// <param name="ExpiredMessages">Expired messages removed from backlogs.</param>
/// <param name="ChannelsRemoved">Empty channels with no subscription or waiter removed.</param>
/// <param name="SubscriptionsRemoved">Subscriptions removed for being idle longer than the limit.</param>
public readonly record struct SweepResult(long ExpiredMessages, int ChannelsRemoved, int SubscriptionsRemoved);
