namespace BrummerQueue.Core;

/// <summary>The argument rules of SPEC.md, with error messages that name the field and the rule.</summary>
internal static class ArgumentRules
{
    public const int MaxNameLength = 128;
    public const string ChannelRule = "must be 1-128 characters from A-Z a-z 0-9 . _ - : /";

    public static void Channel(string? name, string field = "channel")
    {
        if (!IsValidChannelName(name))
        {
            throw QueueException.Invalid(field, name is null or "" ? $"{field} is required and {ChannelRule}" : $"{field} {ChannelRule}");
        }

        ReplyInbox.RefuseAsChannel(name!, field);
    }

    public static bool IsValidChannelName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    public static string Type(string? type)
    {
        if (type is null)
        {
            return "message";
        }

        if (type.Length is < 1 or > MaxNameLength)
        {
            throw QueueException.Invalid("type", "type must be 1-128 characters");
        }

        return type;
    }

    /// <summary>
    /// The rules of a send's draft, in the order every store checks them: <c>type</c>, <c>ttl</c>, the message size
    /// against <see cref="QueueOptions.MaxMessageBytes"/> (payload, channel and type plus <see cref="EnvelopeBytes"/>), then
    /// the payload rule (after the size, which is cheaper). A bad argument throws; a message too large is returned, for
    /// the store to raise as a limit hit and throw; null when the draft may be stored. The channel name is the store's to
    /// check (the in-memory store checks it only when it creates a channel).
    /// </summary>
    public static QueueException? Draft(string? channel, MessageDraft draft, QueueOptions options, out string type, out int ttl)
    {
        type = Type(draft.Type);
        ttl = Ttl(draft.TtlSeconds, options);
        var size = (long)draft.Payload.Length + (channel?.Length ?? 0) + type.Length + EnvelopeBytes;
        if (draft.ReplyTo is not null || draft.CorrelationId is not null)
        {
            size += ReplyInbox.CheckDraft(draft);
        }

        if (size > options.MaxMessageBytes)
        {
            return QueueRefusals.MessageTooLarge(options.MaxMessageBytes, size);
        }

        draft.Payload.Check(options.MaxPayloadDepth);
        return null;
    }

    /// <summary>Fixed overhead of a message's JSON envelope besides channel, type and payload, for the size limit.</summary>
    public const int EnvelopeBytes = 200;

    public static int Ttl(long? ttl, QueueOptions options)
    {
        if (ttl is null)
        {
            return options.DefaultTtlSeconds;
        }

        if (ttl < 0 || ttl > options.MaxTtlSeconds)
        {
            throw QueueException.OutOfRange("ttl", 0, options.MaxTtlSeconds);
        }

        return (int)ttl.Value;
    }

    public static void Limit(int limit)
    {
        if (limit is < 1 or > ReceiveRequest.MaxLimit)
        {
            throw QueueException.OutOfRange("limit", 1, ReceiveRequest.MaxLimit);
        }
    }

    public static TimeSpan Timeout(double seconds)
    {
        if (double.IsNaN(seconds) || seconds < 0 || seconds > ReceiveRequest.MaxTimeoutSeconds)
        {
            throw QueueException.Invalid("timeout", $"timeout must be a number of seconds between 0 and {ReceiveRequest.MaxTimeoutSeconds}");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    public static int BufferSize(int? size, QueueOptions options)
    {
        if (size is null)
        {
            return options.DefaultSubscriptionBufferSize;
        }

        if (size < 1 || size > options.MaxSubscriptionBufferSize)
        {
            throw QueueException.OutOfRange("buffer_size", 1, options.MaxSubscriptionBufferSize);
        }

        return size.Value;
    }

    public static void SinceSeq(long? sinceSeq)
    {
        if (sinceSeq < 0)
        {
            throw QueueException.Invalid("since_seq", "since_seq must be an integer of at least 0");
        }
    }
}
