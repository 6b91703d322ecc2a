namespace BrummerQueue.Core;

/// <summary>
/// Wildcard channel patterns (issue 13, NATS syntax; docs/protocol.md "Wildcard subscriptions"). A channel name is split
/// into tokens at every <c>.</c>; in a pattern, a token <c>*</c> matches exactly one token of the name (any token, even an
/// empty one) and a last token <c>&gt;</c> matches one or more trailing tokens. <c>*</c> and <c>&gt;</c> are not legal in
/// channel names, so any argument holding one of them is a pattern and never a name. Every store and face calls this type:
/// the rule lives here once. Thread-safe (stateless).
/// </summary>
public static class ChannelPattern
{
    /// <summary>The pattern rule, as error messages state it after the field name.</summary>
    public const string Rule = "is a pattern and must be 1-128 characters from A-Z a-z 0-9 . _ - : / * >, with no empty token, '*' only as a whole token and '>' only as the whole last token";

    /// <summary>The refusal of <c>since_seq</c> or <c>epoch</c> with a pattern, for the field named.</summary>
    public static string ResumeRefusal(string field) =>
        $"{field} is not allowed with a pattern channel: seq and epoch belong to one channel and a pattern spans channels; subscribe to a channel by name to resume";

    /// <summary>True when <paramref name="channel"/> holds a wildcard (<c>*</c> or <c>&gt;</c>): it is a pattern, never a name.</summary>
    public static bool IsPattern(string? channel) => channel is not null && channel.AsSpan().IndexOfAny('*', '>') >= 0;

    /// <summary>
    /// Checks the pattern rule (<see cref="Rule"/>); throws <see cref="QueueException"/> with
    /// <see cref="QueueErrorCodes.InvalidArgument"/> naming <paramref name="field"/> when it is broken.
    /// </summary>
    public static void Validate(string? pattern, string field = "channel")
    {
        if (!IsValid(pattern))
        {
            throw QueueException.Invalid(field, $"{field} {Rule}");
        }
    }

    /// <summary>
    /// Checks a pattern subscription's arguments, as every store must: the pattern rule (field <c>channel</c>), and no
    /// <see cref="SubscribeOptions.SinceSeq"/> or <see cref="SubscribeOptions.Epoch"/> (<see cref="ResumeRefusal"/>).
    /// Throws <see cref="QueueException"/> with <see cref="QueueErrorCodes.InvalidArgument"/> naming the field.
    /// </summary>
    internal static void ValidateSubscribe(string pattern, SubscribeOptions options)
    {
        Validate(pattern);
        if (options.SinceSeq is not null)
        {
            throw QueueException.Invalid("since_seq", ResumeRefusal("since_seq"));
        }

        if (options.Epoch is not null)
        {
            throw QueueException.Invalid("epoch", ResumeRefusal("epoch"));
        }
    }

    /// <summary>True when <paramref name="pattern"/> holds a wildcard and keeps the pattern rule.</summary>
    public static bool IsValid(string? pattern)
    {
        if (!IsPattern(pattern) || pattern!.Length > ArgumentRules.MaxNameLength)
        {
            return false;
        }

        var tokens = pattern.Split('.');
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if (token.Length == 0)
            {
                return false;
            }

            if (token.Contains('*', StringComparison.Ordinal) && token != "*")
            {
                return false;
            }

            if (token.Contains('>', StringComparison.Ordinal) && (token != ">" || i != tokens.Length - 1))
            {
                return false;
            }

            foreach (var c in token)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ':' or '/' or '*' or '>'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// True when the channel <paramref name="channel"/> matches the valid <paramref name="pattern"/>. Allocation-free; runs when
    /// a channel is created or a pattern subscribed, never on a send.
    /// </summary>
    public static bool Matches(string pattern, string channel)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(channel);
        var p = pattern.AsSpan();
        var c = channel.AsSpan();
        while (true)
        {
            var pEnd = p.IndexOf('.');
            var pToken = pEnd < 0 ? p : p[..pEnd];
            if (pToken is ">")
            {
                // One or more trailing tokens: the name has at least one token left (it is not exhausted).
                return true;
            }

            var cEnd = c.IndexOf('.');
            var cToken = cEnd < 0 ? c : c[..cEnd];
            if (!(pToken is "*" || pToken.SequenceEqual(cToken)))
            {
                return false;
            }

            if (pEnd < 0 || cEnd < 0)
            {
                // Both must end together.
                return pEnd < 0 && cEnd < 0;
            }

            p = p[(pEnd + 1)..];
            c = c[(cEnd + 1)..];
        }
    }
}
