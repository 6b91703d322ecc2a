namespace BrummerQueue.Core.InMemory;

/// <summary>Lays out a UUID version 7: 48 bits of Unix milliseconds, the version, 12 bits, the variant, 62 bits.</summary>
internal static class UuidV7
{
    public static Guid Create(long unixMs, uint randA12, ulong randB62)
    {
        var ms = (ulong)unixMs & 0xFFFF_FFFF_FFFF;
        return new Guid(
            (uint)(ms >> 16),
            (ushort)(ms & 0xFFFF),
            (ushort)(0x7000 | (randA12 & 0xFFF)),
            (byte)(0x80 | (byte)((randB62 >> 56) & 0x3F)),
            (byte)(randB62 >> 48),
            (byte)(randB62 >> 40),
            (byte)(randB62 >> 32),
            (byte)(randB62 >> 24),
            (byte)(randB62 >> 16),
            (byte)(randB62 >> 8),
            (byte)randB62);
    }
}
