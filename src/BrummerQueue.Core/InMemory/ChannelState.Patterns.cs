namespace BrummerQueue.Core.InMemory;

internal sealed partial class ChannelState
{
    private static readonly PatternSubscription[] s_noPatterns = [];

    // Guarded by Lock (written); copy-on-write so that fan-out iterates without copying. The pattern subscriptions that
    // match this channel's name: attached when the channel is created or a pattern subscribed, never matched on a send.
    // They do not keep the channel from cleanup (IsIdleUnsynchronized ignores them); a channel made again gets them anew.
    private PatternSubscription[] _patterns = s_noPatterns;

    /// <summary>Pattern subscriptions attached to this channel now (a diagnostic for tests).</summary>
    public int PatternCountUnsynchronized => _patterns.Length;

    public void AddPatternUnsynchronized(PatternSubscription subscription)
    {
        AssertLocked();
        _patterns = [.. _patterns, subscription];
    }

    public void RemovePatternUnsynchronized(PatternSubscription subscription)
    {
        AssertLocked();
        var index = Array.IndexOf(_patterns, subscription);
        if (index >= 0)
        {
            _patterns = _patterns.Length == 1 ? s_noPatterns : [.. _patterns.AsSpan(0, index), .. _patterns.AsSpan(index + 1)];
        }
    }

    /// <summary>Copies a new message to every matching pattern subscription, in this channel's seq order (the lock is held); returns how many took it.</summary>
    private int FanOutToPatternsUnsynchronized(QueueMessage message, ref WakeList wake)
    {
        var patterns = _patterns;
        if (patterns.Length == 0)
        {
            return 0;
        }

        var delivered = 0;
        foreach (var pattern in patterns)
        {
            if (pattern.Enqueue(message, out var signal))
            {
                delivered++;
                wake.Add(signal);
            }
        }

        return delivered;
    }
}
