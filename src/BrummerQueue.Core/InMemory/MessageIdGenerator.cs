using System.Security.Cryptography;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Makes message ids in the UUIDv7 layout without a system call per id: 48 bits of Unix
/// milliseconds, the version and variant bits, then 74 bits made of a 62-bit process-wide counter
/// (seeded at random) and 12 random bits drawn once per process. Ids are unique within the process
/// (the counter never repeats), unique across processes with high probability (random seed and
/// suffix), and ordered by time, then by generation order within a millisecond.
/// </summary>
internal static class MessageIdGenerator
{
    // Lock-free: Interlocked.Increment gives each caller a distinct value; no ordering beyond that is needed.
    private static long s_counter = RandomNumberGenerator.GetInt32(int.MaxValue);
    private static readonly int s_processBits = RandomNumberGenerator.GetInt32(1 << 12);

    public static Guid Next(long unixMs)
    {
        var counter = (ulong)Interlocked.Increment(ref s_counter) & ((1UL << 62) - 1);
        var randA = (ushort)((counter >> 50) & 0xFFF);
        var randB = ((counter & ((1UL << 50) - 1)) << 12) | (uint)s_processBits; // 62 bits
        var ms = (ulong)unixMs & 0xFFFF_FFFF_FFFF;
        return new Guid(
            (uint)(ms >> 16),
            (ushort)(ms & 0xFFFF),
            (ushort)(0x7000 | randA),
            (byte)(0x80 | (byte)((randB >> 56) & 0x3F)),
            (byte)(randB >> 48),
            (byte)(randB >> 40),
            (byte)(randB >> 32),
            (byte)(randB >> 24),
            (byte)(randB >> 16),
            (byte)(randB >> 8),
            (byte)randB);
    }
}
