using System.Buffers;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// A pass-through stream that hands every complete line read from or written to
/// <see cref="_inner"/> to a callback, and may hold back end of input until a task completes.
/// Input that ends without a newline gets one, so the last line is not lost. An input stream
/// may also gate lines: then it passes on whole lines only, those its gate admits.
/// <see cref="StdioDrain"/> uses one for stdin and one for stdout to see JSON-RPC requests and
/// their answers without touching the SDK's transport. Not thread-safe for concurrent reads or
/// concurrent writes (the transport reads from one loop and serializes its writes).
/// </summary>
internal sealed class LineTapStream : Stream
{
    private const int ChunkBytes = 16 * 1024;

    private readonly Stream _inner;
    private readonly Action<ReadOnlyMemory<byte>> _onLine;
    private readonly Func<CancellationToken, Task>? _beforeEndOfInput;
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<bool>>? _admitLine;
    private readonly MemoryStream _partial = new();

    // Gated input only: admitted lines not yet read out (from _readyOffset on), and the read chunk.
    private readonly ArrayBufferWriter<byte> _ready = new();
    private int _readyOffset;
    private byte[]? _chunk;

    /// <param name="inner">The stream to read from or write to.</param>
    /// <param name="onLine">Called with each complete line (without its <c>\n</c>) after it was read or written (for gated input: each admitted line).</param>
    /// <param name="beforeEndOfInput">For an input stream: awaited before end of input is passed on.</param>
    /// <param name="admitLine">For an input stream: awaited with each complete line; a line it refuses (false) is not passed on.</param>
    public LineTapStream(Stream inner, Action<ReadOnlyMemory<byte>> onLine, Func<CancellationToken, Task>? beforeEndOfInput = null, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<bool>>? admitLine = null)
    {
        _inner = inner;
        _onLine = onLine;
        _beforeEndOfInput = beforeEndOfInput;
        _admitLine = admitLine;
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
        if (_admitLine is not null)
        {
            return await ReadGatedAsync(buffer, cancellationToken);
        }

        var read = await ReadInnerAsync(buffer, cancellationToken);
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

    /// <summary>
    /// A read of the console's stdin ignores cancellation and would hold the transport's shutdown (SIGTERM)
    /// until the client writes or closes; it is given up when cancelled. Its bytes, if any come, are lost
    /// with the session that is ending.
    /// </summary>
    private async ValueTask<int> ReadInnerAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? await _inner.ReadAsync(buffer, cancellationToken).AsTask().WaitAsync(cancellationToken)
            : await _inner.ReadAsync(buffer, cancellationToken);

    /// <summary>Reads whole lines, offers each to the gate, and passes on the admitted ones with their newline.</summary>
    private async ValueTask<int> ReadGatedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (_readyOffset == _ready.WrittenCount)
        {
            _ready.ResetWrittenCount();
            _readyOffset = 0;
            _chunk ??= new byte[ChunkBytes];
            var read = await ReadInnerAsync(_chunk, cancellationToken);
            if (read == 0)
            {
                if (_partial.Length > 0)
                {
                    // A last line without its newline: a line too.
                    var last = _partial.ToArray();
                    _partial.SetLength(0);
                    await OfferAsync(last, cancellationToken);
                    continue;
                }

                if (_beforeEndOfInput is not null)
                {
                    await _beforeEndOfInput(cancellationToken);
                }

                return 0;
            }

            var bytes = _chunk.AsMemory(0, read);
            while (bytes.Span.IndexOf((byte)'\n') is var newline and >= 0)
            {
                byte[] line;
                if (_partial.Length == 0)
                {
                    line = bytes[..newline].ToArray();
                }
                else
                {
                    _partial.Write(bytes.Span[..newline]);
                    line = _partial.ToArray();
                    _partial.SetLength(0);
                }

                await OfferAsync(line, cancellationToken);
                bytes = bytes[(newline + 1)..];
            }

            _partial.Write(bytes.Span);
        }

        var count = Math.Min(buffer.Length, _ready.WrittenCount - _readyOffset);
        _ready.WrittenSpan.Slice(_readyOffset, count).CopyTo(buffer.Span);
        _readyOffset += count;
        return count;
    }

    private async ValueTask OfferAsync(byte[] line, CancellationToken cancellationToken)
    {
        if (!await _admitLine!(line, cancellationToken))
        {
            return;
        }

        _onLine(line);
        _ready.Write(line);
        _ready.Write("\n"u8);
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
