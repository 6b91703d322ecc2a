namespace BrummerQueue.Server.Mcp;

/// <summary>
/// A pass-through stream that hands every complete line read from or written to
/// <see cref="_inner"/> to a callback, and may hold back end of input until a task completes.
/// Input that ends without a newline gets one, so the last line is not lost.
/// <see cref="StdioDrain"/> uses one for stdin and one for stdout to see JSON-RPC requests and
/// their answers without touching the SDK's transport. Not thread-safe for concurrent reads or
/// concurrent writes (the transport reads from one loop and serializes its writes).
/// </summary>
internal sealed class LineTapStream : Stream
{
    private readonly Stream _inner;
    private readonly Action<ReadOnlyMemory<byte>> _onLine;
    private readonly Func<CancellationToken, Task>? _beforeEndOfInput;
    private readonly MemoryStream _partial = new();

    /// <param name="inner">The stream to read from or write to.</param>
    /// <param name="onLine">Called with each complete line (without its <c>\n</c>) after it was read or written.</param>
    /// <param name="beforeEndOfInput">For an input stream: awaited before end of input is passed on.</param>
    public LineTapStream(Stream inner, Action<ReadOnlyMemory<byte>> onLine, Func<CancellationToken, Task>? beforeEndOfInput = null)
    {
        _inner = inner;
        _onLine = onLine;
        _beforeEndOfInput = beforeEndOfInput;
    }

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A read of the console's stdin ignores cancellation and would hold the transport's shutdown
        // (SIGTERM) until the client writes or closes; give it up when cancelled. Its bytes, if any come,
        // are lost with the session that is ending.
        var read = cancellationToken.CanBeCanceled
            ? await _inner.ReadAsync(buffer, cancellationToken).AsTask().WaitAsync(cancellationToken)
            : await _inner.ReadAsync(buffer, cancellationToken);
        if (read > 0)
        {
            Tap(buffer.Span[..read]);
            return read;
        }

        if (_partial.Length > 0 && buffer.Length > 0)
        {
            // A last line without its newline: end it, so that the reader takes it as a line too.
            _onLine(_partial.ToArray());
            _partial.SetLength(0);
            buffer.Span[0] = (byte)'\n';
            return 1;
        }

        if (_beforeEndOfInput is not null)
        {
            await _beforeEndOfInput(cancellationToken);
        }

        return 0;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Write(buffer);
        Tap(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken);
        Tap(buffer.Span);
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _partial.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Tap(ReadOnlySpan<byte> bytes)
    {
        while (bytes.IndexOf((byte)'\n') is var newline and >= 0)
        {
            if (_partial.Length == 0)
            {
                _onLine(bytes[..newline].ToArray());
            }
            else
            {
                _partial.Write(bytes[..newline]);
                _onLine(_partial.ToArray());
                _partial.SetLength(0);
            }

            bytes = bytes[(newline + 1)..];
        }

        _partial.Write(bytes);
    }
}
