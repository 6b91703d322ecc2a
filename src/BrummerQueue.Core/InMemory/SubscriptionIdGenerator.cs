using System.Security.Cryptography;

namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Makes subscription ids in the UUIDv7 layout with 74 bits from the operating system's
/// cryptographic generator, so an id cannot be guessed from another (it is what a WebSocket or
/// MCP client presents to read a subscription). Random bytes are fetched 1 KiB at a time per
/// thread, so most ids cost no system call.
/// </summary>
internal static class SubscriptionIdGenerator
{
    private const int BufferSize = 1024;
    private const int BytesPerId = 10;

    // Thread-static: each thread owns its buffer and position; no sharing, no lock.
    [ThreadStatic]
    private static byte[]? s_random;

    [ThreadStatic]
    private static int s_position;

    public static string Next(long unixMs)
    {
        var random = s_random ??= new byte[BufferSize];
        if (s_position == 0 || s_position + BytesPerId > BufferSize)
        {
            RandomNumberGenerator.Fill(random);
            s_position = 0;
        }

        var bytes = random.AsSpan(s_position, BytesPerId);
        s_position += BytesPerId;
        var randA = (uint)(bytes[0] | (bytes[1] << 8));
        var randB = BitConverter.ToUInt64(bytes[2..]);
        return UuidV7.Create(unixMs, randA, randB).ToString();
    }
}
