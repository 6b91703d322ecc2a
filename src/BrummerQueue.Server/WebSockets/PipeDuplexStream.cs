using System.Buffers;
using System.IO.Pipelines;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// One end of an in-process byte stream made of two pipes: reads come from <c>input</c>, writes go to <c>output</c>.
/// <see cref="CreatePair"/> joins two ends, so a server and a client <see cref="System.Net.WebSockets.WebSocket"/> can
/// talk without a socket (<see cref="PushPathWarmUp"/>). Async reads and writes only; not seekable.
/// </summary>
internal sealed class PipeDuplexStream(PipeReader input, PipeWriter output) : Stream
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Two ends joined: what one writes the other reads.</summary>
    public static (PipeDuplexStream First, PipeDuplexStream Second) CreatePair()
    {
        var one = new Pipe();
        var two = new Pipe();
        return (new PipeDuplexStream(one.Reader, two.Writer), new PipeDuplexStream(two.Reader, one.Writer));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var data = result.Buffer;
        if (data.IsEmpty)
        {
            input.AdvanceTo(data.End);
            return 0;
        }

        var count = (int)Math.Min(data.Length, buffer.Length);
        var end = data.GetPosition(count);
        data.Slice(0, end).CopyTo(buffer.Span);
        input.AdvanceTo(end);
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        await output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken) =>
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

    public override void Flush()
    {
        // Every write is flushed as it is made.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Complete();
            output.Complete();
        }

        base.Dispose(disposing);
    }
}
