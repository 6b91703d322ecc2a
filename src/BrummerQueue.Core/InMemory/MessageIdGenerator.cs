using System.Security.Cryptography;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Makes message ids in the UUIDv7 layout without a system call per id: the Unix milliseconds,
/// then 74 bits made of a 62-bit counter value and 12 random bits drawn once per process.
/// Counter values are handed to each thread in blocks of <see cref="BlockSize"/> from one
/// process-wide counter (seeded at random, far from wrapping), so no two ids of a process share a
/// value, and threads sending to different channels do not write a shared cache line per message.
/// Ids are ordered by millisecond, and within a millisecond by generation order on each thread.
/// They are not secrets: subscription ids, which act as capabilities, come from
/// <see cref="SubscriptionIdGenerator"/> instead.
/// </summary>
internal static class MessageIdGenerator
{
    private const long BlockSize = 1024;
    private const ulong CounterMask = (1UL << 62) - 1;

    // Lock-free: Interlocked.Add hands each caller a distinct block; no ordering beyond that is needed.
    private static long s_nextBlock = RandomNumberGenerator.GetInt32(int.MaxValue) * (long)RandomNumberGenerator.GetInt32(1 << 29);
    private static readonly uint s_processBits = (uint)RandomNumberGenerator.GetInt32(1 << 12);

    // Thread-static: the current block of this thread, [s_next, s_end).
    [ThreadStatic]
    private static long s_next;

    [ThreadStatic]
    private static long s_end;

    public static Guid Next(long unixMs)
    {
        if (s_next == s_end)
        {
            s_end = Interlocked.Add(ref s_nextBlock, BlockSize);
            s_next = s_end - BlockSize;
        }

        var counter = (ulong)s_next++ & CounterMask;
        return UuidV7.Create(unixMs, (uint)(counter >> 50), ((counter & ((1UL << 50) - 1)) << 12) | s_processBits);
    }
}
