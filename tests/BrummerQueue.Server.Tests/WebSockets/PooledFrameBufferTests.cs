using System.Buffers;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>The socket writer's frame buffer: rented, kept between frames, given back when the socket is idle.</summary>
public sealed class PooledFrameBufferTests
{
    [Fact]
    public void GetSpan_PastCapacity_KeepsWhatWasWritten()
    {
        using var frame = new PooledFrameBuffer();
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i % 251)).ToArray();

        // Small writes, so that the buffer grows several times under them.
        for (var at = 0; at < bytes.Length; at += 1000)
        {
            frame.Write(bytes.AsSpan(at, Math.Min(1000, bytes.Length - at)));
        }

        Assert.Equal(bytes.Length, frame.WrittenCount);
        Assert.True(frame.WrittenMemory.Span.SequenceEqual(bytes));
    }

    [Fact]
    public void Release_AfterAFrame_HoldsNoArray()
    {
        using var frame = new PooledFrameBuffer();
        frame.Write(new byte[10_000]);
        Assert.True(frame.Capacity >= 10_000);

        frame.Reset();
        Assert.Equal(0, frame.WrittenCount);
        Assert.True(frame.Capacity >= 10_000);

        frame.Release();
        Assert.Equal(0, frame.WrittenCount);
        Assert.Equal(0, frame.Capacity);
    }

    [Fact]
    public void Write_BatchedFramesOneAfterAnother_AllocatesNothingOnceGrown()
    {
        // A batched frame of 64 KiB and a bit, as a busy socket's writer builds one after another (issue 14 point 5:
        // the writer used to replace such a buffer by a new one, from the large object heap, for every frame).
        var part = new byte[300];
        using var frame = new PooledFrameBuffer();
        WriteBatch(frame, part);
        frame.Reset();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            WriteBatch(frame, part);
            frame.Reset();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Advance_PastWhatWasAskedFor_Throws()
    {
        using var frame = new PooledFrameBuffer();
        var length = frame.GetSpan(16).Length;

        Assert.Throws<ArgumentOutOfRangeException>(() => frame.Advance(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => frame.Advance(-1));
    }

    private static void WriteBatch(PooledFrameBuffer frame, byte[] part)
    {
        while (frame.WrittenCount < (64 * 1024) + 1)
        {
            frame.Write(part);
        }
    }
}
