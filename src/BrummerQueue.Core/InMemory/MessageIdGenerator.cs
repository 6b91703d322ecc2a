using System.Security.Cryptography;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Makes message ids in the UUIDv7 layout without a system call per id: the Unix milliseconds,
/// then 74 bits made of a 62-bit process-wide counter (seeded at random, far from wrapping) and
/// 12 random bits drawn once per process. Ids are unique within the process (the counter never
/// repeats), unique across processes with high probability, and ordered by time, then by
/// generation order within a millisecond. They are not secrets: subscription ids, which act as
/// capabilities, come from <see cref="SubscriptionIdGenerator"/> instead.
/// </summary>
internal static class MessageIdGenerator
{
    // Lock-free: Interlocked.Increment gives each caller a distinct value; no ordering beyond that is needed.
    private static long s_counter = RandomNumberGenerator.GetInt32(int.MaxValue) * (long)RandomNumberGenerator.GetInt32(1 << 29);
    private static readonly uint s_processBits = (uint)RandomNumberGenerator.GetInt32(1 << 12);

    public static Guid Next(long unixMs)
    {
        var counter = (ulong)Interlocked.Increment(ref s_counter) & ((1UL << 62) - 1);
        return UuidV7.Create(unixMs, (uint)(counter >> 50), ((counter & ((1UL << 50) - 1)) << 12) | s_processBits);
    }
}
