namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The retained-payload budget shared by all channels. Lock-free: a send reserves with one
/// <see cref="Interlocked.Add(ref long, long)"/> and gives the reservation back if it overshoots,
/// so the total never exceeds the limit even under concurrent sends; removals release.
/// </summary>
internal sealed class ByteBudget(long limit)
{
    // Lock-free; every change is an Interlocked.Add, reads are Volatile. Legal range 0..limit after each completed
    // operation, except that messages put back (Force) may take it above the limit until they are removed.
    private long _used;

    public long Limit { get; } = limit;

    public long Used => Volatile.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= Limit)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    /// <summary>Adds bytes without the limit check: for messages put back, which were stored and acknowledged before.</summary>
    public void Force(long bytes)
    {
        if (bytes != 0)
        {
            Interlocked.Add(ref _used, bytes);
        }
    }

    public void Release(long bytes)
    {
        if (bytes != 0)
        {
            Interlocked.Add(ref _used, -bytes);
        }
    }
}
