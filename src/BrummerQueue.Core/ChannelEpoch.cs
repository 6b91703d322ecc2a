using System.Security.Cryptography;

namespace BrummerQueue.Core;

/// <summary>
/// Epochs (SPEC.md §1 "Epoch", "Resume"): each incarnation of a channel has an epoch, a short random string chosen
/// when the channel is created (first send or subscribe, again after cleanup removed it, after a restart, after a
/// store lost data). <c>seq</c> starts at 1 in each epoch, so <c>(epoch, seq)</c> names a position for good.
/// <para>
/// Format: <see cref="Length"/> (8) characters of lowercase RFC 4648 base32 (<c>a-z</c>, <c>2-7</c>) from
/// <see cref="RandomNumberGenerator"/>, 40 random bits, e.g. <c>k3v7qa2m</c>. Every store makes epochs in this
/// format (the Redis store in its Lua scripts). What clients may send back is wider (<see cref="Rule"/>: 1-32
/// characters of <c>a-z 0-9</c>), so a store may change its format later without refusing old clients.
/// </para>
/// <para>
/// The resume rule (<see cref="SubscribeOptions.SinceSeq"/> with <see cref="SubscribeOptions.Epoch"/>), the same for
/// every store:
/// <list type="bullet">
/// <item><c>since_seq</c> with the channel's current epoch: the retained messages with <c>seq &gt; since_seq</c> are
/// replayed; <see cref="Subscription.Recovered"/> is true exactly when <c>since_seq &lt;= last_seq</c> and every seq in
/// <c>(since_seq, last_seq]</c> is still retained (none consumed, evicted or expired).</item>
/// <item><c>since_seq</c> with another epoch: the whole retained backlog of the current epoch is replayed and
/// <see cref="Subscription.Recovered"/> is false.</item>
/// <item><c>since_seq</c> without an epoch (clients older than epochs): the same-epoch rule, except that
/// <c>since_seq &gt; last_seq</c>, which can only come from an earlier incarnation, is treated as another epoch.</item>
/// <item>An epoch without <c>since_seq</c> is refused (<see cref="QueueErrorCodes.InvalidArgument"/> naming <c>epoch</c>).</item>
/// </list>
/// </para>
/// Thread-safe: every member is a pure function or uses the thread-safe <see cref="RandomNumberGenerator"/>.
/// </summary>
public static class ChannelEpoch
{
    /// <summary>Characters in an epoch this server makes.</summary>
    public const int Length = 8;

    /// <summary>The most characters an epoch a client sends may have.</summary>
    public const int MaxLength = 32;

    /// <summary>The shape rule of an epoch a client sends, as error messages state it.</summary>
    public const string Rule = "must be 1-32 characters from a-z 0-9";

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>Makes a new random epoch: <see cref="Length"/> characters of lowercase base32.</summary>
    public static string New() => new(RandomNumberGenerator.GetItems<char>(Alphabet, Length));

    /// <summary>True when <paramref name="epoch"/> has the shape of <see cref="Rule"/> (1-32 characters of <c>a-z 0-9</c>).</summary>
    public static bool IsValid(string? epoch)
    {
        if (string.IsNullOrEmpty(epoch) || epoch.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in epoch)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Checks the <c>epoch</c> argument of a subscribe: null, or the shape of <see cref="Rule"/> and given together
    /// with <c>since_seq</c>. Throws <see cref="QueueException"/> (<see cref="QueueErrorCodes.InvalidArgument"/>,
    /// field <c>epoch</c>) otherwise. Every store calls it; faces pass the client's string through unchanged.
    /// </summary>
    public static void Validate(string? epoch, long? sinceSeq)
    {
        if (epoch is null)
        {
            return;
        }

        if (!IsValid(epoch))
        {
            throw QueueException.Invalid("epoch", $"epoch {Rule} (the epoch a subscribe reply or the channel list gave)");
        }

        if (sinceSeq is null)
        {
            throw QueueException.Invalid("epoch", "epoch needs since_seq: give the since_seq that belongs to this epoch, or leave both out");
        }
    }

    /// <summary>
    /// Whether a resume from <paramref name="sinceSeq"/> in <paramref name="epoch"/> continues the channel's current
    /// incarnation (<paramref name="currentEpoch"/>, whose newest seq is <paramref name="lastSeq"/>): the same epoch,
    /// or, with no epoch given, a <paramref name="sinceSeq"/> not beyond <paramref name="lastSeq"/>. When false, the
    /// whole retained backlog is replayed and the subscription is not recovered (see the class summary).
    /// </summary>
    public static bool IsSameIncarnation(string? epoch, long sinceSeq, string currentEpoch, long lastSeq) =>
        epoch is null ? sinceSeq <= lastSeq : string.Equals(epoch, currentEpoch, StringComparison.Ordinal);
}
