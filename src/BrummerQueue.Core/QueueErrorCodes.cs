namespace BrummerQueue.Core;

/// <summary>The machine-readable codes a <see cref="QueueException"/> carries; hosts pass them to clients unchanged.</summary>
public static class QueueErrorCodes
{
    /// <summary>An argument broke its rule; <see cref="QueueException.Field"/> names it.</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>The message is larger than <see cref="QueueOptions.MaxMessageBytes"/>.</summary>
    public const string MessageTooLarge = "message_too_large";

    /// <summary>Retained payload would exceed <see cref="QueueOptions.MaxTotalBytes"/>; nothing was stored or lost.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>A count limit (channels, subscriptions per owner) is reached.</summary>
    public const string LimitExceeded = "limit_exceeded";

    /// <summary>The subscription named does not exist (never did, was unsubscribed, or expired).</summary>
    public const string NotFound = "not_found";
}
