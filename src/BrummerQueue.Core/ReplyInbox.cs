using System.Globalization;
using System.Security.Cryptography;

namespace BrummerQueue.Core;

/// <summary>
/// The rules of request/reply (docs/protocol.md "Request/reply"), once for every store and face: the private reply
/// channels' names (<c>_inbox.</c> and 26 characters of lowercase base32 carrying 128 bits from the operating system's
/// CSPRNG, so nobody reaches another's inbox by guessing), the <c>reply_to</c> and <c>correlation_id</c> rules, the
/// request <c>timeout</c> rule, and the refusals of a reply that comes too late or twice.
/// </summary>
internal static class ReplyInbox
{
    /// <summary>Every private reply channel's name starts with this; no other channel may.</summary>
    public const string Prefix = "_inbox.";

    /// <summary>The rule of <c>correlation_id</c>.</summary>
    public const string CorrelationIdRule = "correlation_id must be 1-128 characters with no control characters";

    /// <summary>The rule of a request's <c>timeout</c>.</summary>
    public static readonly string TimeoutRule = string.Create(CultureInfo.InvariantCulture, $"timeout must be a number of seconds greater than 0 and at most {ReceiveRequest.MaxTimeoutSeconds}");

    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>A fresh reply channel name: <c>_inbox.</c> and 26 base32 characters (128 random bits).</summary>
    public static string NewName()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        Span<char> name = stackalloc char[Prefix.Length + 26];
        Prefix.AsSpan().CopyTo(name);
        var bits = 0;
        var value = 0;
        var at = Prefix.Length;
        foreach (var b in random)
        {
            value = (value << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                name[at++] = Base32[(value >> bits) & 31];
            }
        }

        name[at] = Base32[(value << (5 - bits)) & 31];
        return new string(name);
    }

    /// <summary>True when <paramref name="channel"/> names a private reply channel (it starts with <see cref="Prefix"/>).</summary>
    public static bool IsInbox(string? channel) => channel is not null && channel.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Refuses a reply channel where a channel is read, subscribed or made: only its request reads it.</summary>
    public static void RefuseAsChannel(string name, string field)
    {
        if (IsInbox(name))
        {
            throw QueueException.Invalid(field, $"{field} '{name}' is a private reply channel (names starting with {Prefix} are made by queue_request): only its request reads it; answer the request by sending to it");
        }
    }

    /// <summary>Checks a draft's <c>reply_to</c> and <c>correlation_id</c>; returns their length for the size limit.</summary>
    public static int CheckDraft(MessageDraft draft)
    {
        if (draft.ReplyTo is { } replyTo && !ArgumentRules.IsValidChannelName(replyTo))
        {
            throw QueueException.Invalid("reply_to", $"reply_to {ArgumentRules.ChannelRule}");
        }

        if (draft.CorrelationId is { } correlationId)
        {
            if (correlationId.Length is < 1 or > ArgumentRules.MaxNameLength)
            {
                throw QueueException.Invalid("correlation_id", CorrelationIdRule);
            }

            foreach (var c in correlationId)
            {
                if (char.IsControl(c))
                {
                    throw QueueException.Invalid("correlation_id", CorrelationIdRule);
                }
            }
        }

        return (draft.ReplyTo?.Length ?? 0) + (draft.CorrelationId?.Length ?? 0);
    }

    /// <summary>The request <c>timeout</c> rule: more than 0 and at most <see cref="ReceiveRequest.MaxTimeoutSeconds"/> seconds.</summary>
    public static TimeSpan Timeout(double seconds) =>
        double.IsNaN(seconds) || seconds <= 0 || seconds > ReceiveRequest.MaxTimeoutSeconds
            ? throw QueueException.Invalid("timeout", TimeoutRule)
            : TimeSpan.FromSeconds(seconds);

    /// <summary>
    /// The request's draft: <c>reply_to</c> set to the inbox, and without a <c>ttl</c> of its own the request lives as long as its
    /// wait (whole seconds, rounded up), so that a request nobody answered in time leaves the backlog with its inbox.
    /// </summary>
    public static MessageDraft RequestDraft(MessageDraft draft, string inbox, TimeSpan timeout) =>
        draft with { ReplyTo = inbox, TtlSeconds = draft.TtlSeconds ?? (long)Math.Ceiling(timeout.TotalSeconds) };

    /// <summary>A reply to an inbox whose request no longer waits (answered and gone, timed out, cancelled) or never existed.</summary>
    public static QueueException Gone(string inbox) => new(
        QueueErrorCodes.NotFound,
        "channel",
        $"channel '{inbox}' is a reply channel with no request waiting on it: the request was answered, timed out or was cancelled (a request takes one reply, while it waits), or it never existed; this reply was not stored");

    /// <summary>A second reply to a request that already has its reply.</summary>
    public static QueueException AlreadyAnswered(string inbox) => new(
        QueueErrorCodes.NotFound,
        "channel",
        $"channel '{inbox}' is a reply channel whose request already has its reply (a request takes the first reply only); this reply was not stored");

    /// <summary>A request that got no reply within its timeout.</summary>
    public static QueueException NoReply(string channel, SendResult request, TimeSpan timeout) => new(
        QueueErrorCodes.Timeout,
        "timeout",
        string.Create(CultureInfo.InvariantCulture, $"no reply within {timeout.TotalSeconds:0.###} s to request {request.Message.Id:D} on channel '{channel}' (reply_to {request.Message.ReplyTo}, delivered to {request.DeliveredTo} subscription(s)); the request stays in the channel's backlog until its ttl ({request.Message.TtlSeconds} s) ends, and a reply that comes later is refused"));
}
