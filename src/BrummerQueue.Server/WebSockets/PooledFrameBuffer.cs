using System.Buffers;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// The bytes of the frame a socket's writer is building, in an array rented from <see cref="ArrayPool{T}.Shared"/>.
/// The writer keeps the array from frame to frame while frames keep coming (<see cref="Reset"/>) and gives it back when
/// the socket has nothing more to send (<see cref="Release"/>), so an idle socket holds no frame buffer and a busy one
/// does not grow a new one for every batched frame (issue 14 point 5: a frame past 85,000 bytes came from the large
/// object heap each time). Grows by doubling, copying what was written. One writer at a time; not thread-safe.
/// </summary>
internal sealed class PooledFrameBuffer : IBufferWriter<byte>, IDisposable
{
    /// <summary>Size of the first array rented for a frame, in bytes.</summary>
    public const int InitialBytes = 4096;

    private byte[] _array = [];
    private int _written;

    /// <summary>Bytes written since the last <see cref="Reset"/> or <see cref="Release"/>.</summary>
    public int WrittenCount => _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _written);

    /// <summary>Bytes of the array held now (0 when released).</summary>
    public int Capacity => _array.Length;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _array.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _array.AsSpan(_written);
    }

    /// <summary>Empties the buffer and keeps its array for the next frame.</summary>
    public void Reset() => _written = 0;

    /// <summary>Empties the buffer and gives its array back to the pool.</summary>
    public void Release()
    {
        _written = 0;
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    public void Dispose() => Release();

    private void EnsureRoom(int sizeHint)
    {
        var needed = (long)_written + Math.Max(sizeHint, 1);
        if (needed <= _array.Length)
        {
            return;
        }

        var size = (int)Math.Min(Array.MaxLength, Math.Max(Math.Max(InitialBytes, needed), (long)_array.Length * 2));
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _array.AsSpan(0, _written).CopyTo(bigger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = bigger;
    }
}
