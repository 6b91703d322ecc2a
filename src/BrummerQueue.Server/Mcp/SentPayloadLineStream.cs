namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The stdio input as the MCP SDK reads it: line by line from the inner stream, each line passed through
/// <see cref="SentPayloads.SpliceLine"/> first, so a <c>queue_send</c> payload is kept as the sender wrote
/// it and the SDK parses the line without it (see <see cref="SentPayloads"/>). Read-only, one reader at a time.
/// </summary>
internal sealed class SentPayloadLineStream(Stream inner, SentPayloads payloads) : Stream
{
    private readonly byte[] _chunk = new byte[16 * 1024];

    // The part of a line read so far without its newline.
    private readonly MemoryStream _partial = new();

    // Spliced lines ready for the reader, from _readyOffset on.
    private readonly MemoryStream _ready = new();
    private int _readyOffset;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

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
        while (_readyOffset == _ready.Length && !_ended)
        {
            _ready.SetLength(0);
            _readyOffset = 0;
            var read = await inner.ReadAsync(_chunk, cancellationToken);
            if (read == 0)
            {
                _ended = true;
                if (_partial.Length > 0)
                {
                    _ready.Write(payloads.SpliceLine(_partial.GetBuffer().AsSpan(0, (int)_partial.Length)));
                    _partial.SetLength(0);
                }

                break;
            }

            Split(_chunk.AsSpan(0, read));
        }

        var count = Math.Min(buffer.Length, (int)_ready.Length - _readyOffset);
        _ready.GetBuffer().AsSpan(_readyOffset, count).CopyTo(buffer.Span);
        _readyOffset += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _partial.Dispose();
            _ready.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Split(ReadOnlySpan<byte> bytes)
    {
        while (bytes.IndexOf((byte)'\n') is var newline and >= 0)
        {
            if (_partial.Length == 0)
            {
                _ready.Write(payloads.SpliceLine(bytes[..newline]));
            }
            else
            {
                _partial.Write(bytes[..newline]);
                _ready.Write(payloads.SpliceLine(_partial.GetBuffer().AsSpan(0, (int)_partial.Length)));
                _partial.SetLength(0);
            }

            _ready.WriteByte((byte)'\n');
            bytes = bytes[(newline + 1)..];
        }

        _partial.Write(bytes);
    }
}
