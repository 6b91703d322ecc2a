namespace BrummerQueue.Core;

/// <summary>
/// The argument rules of acknowledged receive (docs/protocol.md "Acknowledged receive"), checked once in Core for every face
/// and store; the faces quote the rule strings. Thread-safe (pure functions).
/// </summary>
public static class LeaseRules
{
    /// <summary>Largest <c>ack_timeout</c>, in seconds (one hour).</summary>
    public const double MaxAckTimeoutSeconds = 3600;

    /// <summary>Most ids one ack may name.</summary>
    public const int MaxAckIds = 1000;

    /// <summary>The <c>ack_timeout</c> rule, as refusals state it.</summary>
    public const string AckTimeoutRule = "ack_timeout must be a number of seconds between 1 and 3600";

    /// <summary>The <c>message_ids</c> rule, as refusals state it.</summary>
    public const string MessageIdsRule = "message_ids must be a list of 1 to 1000 message ids";

    /// <summary>
    /// Checks a receive's lease arguments and returns the lease length in milliseconds, or 0 for a receive without a lease.
    /// A lease is taken from a channel only, and not by a peek.
    /// </summary>
    public static long AckTimeoutMs(ReceiveRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.AckTimeoutSeconds is not { } seconds)
        {
            return 0;
        }

        if (double.IsNaN(seconds) || seconds < 1 || seconds > MaxAckTimeoutSeconds)
        {
            throw QueueException.Invalid("ack_timeout", AckTimeoutRule);
        }

        if (request.Peek)
        {
            throw QueueException.Invalid("ack_timeout", "ack_timeout cannot be combined with peek: a peek takes nothing to acknowledge");
        }

        if (request.SubscriptionId is not null)
        {
            throw QueueException.Invalid("ack_timeout", "ack_timeout is only allowed with channel, not with subscription_id (a subscription's copies need no ack)");
        }

        return (long)Math.Round(seconds * 1000);
    }

    /// <summary>Checks an ack's ids: 1–1000 of them.</summary>
    public static void MessageIds(IReadOnlyList<string>? ids)
    {
        if (ids is null || ids.Count is < 1 or > MaxAckIds)
        {
            throw QueueException.Invalid("message_ids", MessageIdsRule);
        }
    }
}
