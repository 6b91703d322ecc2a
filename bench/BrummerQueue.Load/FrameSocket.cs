using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace BrummerQueue.Load;

/// <summary>
/// A client WebSocket speaking brummerq's JSON text frames: one sender and one receiver may use it
/// at the same time (the <see cref="ClientWebSocket"/> rule). The receive buffer grows to the largest frame.
/// Batched (<c>?batch=1</c>, docs/protocol.md): each server frame is a JSON array, and <see cref="ReceiveAsync"/>
/// hands out its elements one at a time, so callers see one message per call either way.
/// </summary>
internal sealed class FrameSocket : IDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly ArrayBufferWriter<byte> _out = new(512);
    private byte[] _in = new byte[16 * 1024];

    // Batched: the elements of the last frame not handed out yet, as (start, length) in _in.
    private readonly Queue<(int Start, int Length)> _elements = new();
    private bool _batched;

    private FrameSocket()
    {
    }

    public static async Task<FrameSocket> ConnectAsync(Uri url, CancellationToken cancellationToken, bool batched = false)
    {
        var socket = new FrameSocket { _batched = batched };
        try
        {
            var wsUrl = new UriBuilder(url) { Scheme = url.Scheme == "https" ? "wss" : "ws", Path = "/__brummer_ws__", Query = batched ? "batch=1" : string.Empty }.Uri;
            socket._socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket._socket.ConnectAsync(wsUrl, cancellationToken);
            var hello = await socket.ReceiveAsync(cancellationToken);
            if (FrameType(hello.Span) != "connected")
            {
                throw new InvalidOperationException("the server did not open with a 'connected' frame");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Writes one frame with <paramref name="write"/> (called with a fresh writer) and sends it.</summary>
    public ValueTask SendAsync(Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        _out.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_out))
        {
            write(writer);
        }

        return _socket.SendAsync(_out.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    /// <summary>
    /// Receives one message (one whole frame, or the next element of a batched one); empty when the server closed the
    /// socket. The memory is valid until the next call.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (!_batched)
        {
            return await ReceiveFrameAsync(cancellationToken);
        }

        if (_elements.Count == 0)
        {
            var frame = await ReceiveFrameAsync(cancellationToken);
            if (frame.IsEmpty)
            {
                return frame;
            }

            Split(frame.Span);
        }

        var (start, length) = _elements.Dequeue();
        return _in.AsMemory(start, length);
    }

    /// <summary>Queues the elements of a batched frame (a JSON array); at least one.</summary>
    private void Split(ReadOnlySpan<byte> frame)
    {
        var reader = new Utf8JsonReader(frame);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new InvalidOperationException("a batched frame is not a JSON array");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            _elements.Enqueue((start, (int)reader.BytesConsumed - start));
        }

        if (_elements.Count == 0)
        {
            throw new InvalidOperationException("a batched frame is an empty JSON array");
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReceiveFrameAsync(CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            if (length == _in.Length)
            {
                Array.Resize(ref _in, _in.Length * 2);
            }

            var result = await _socket.ReceiveAsync(_in.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return _in.AsMemory(0, length);
            }
        }
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "load run finished", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server went first or is gone; nothing to close.
            }
        }
    }

    /// <summary>Drops the connection without a close handshake, as a crashed client or a lost network does.</summary>
    public void Abort() => _socket.Abort();

    /// <summary>The envelope's top-level <c>type</c>, or null.</summary>
    public static string? FrameType(ReadOnlySpan<byte> frame)
    {
        var reader = new Utf8JsonReader(frame);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                return reader.GetString();
            }

            if (reader.CurrentDepth >= 1 && reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }

        return null;
    }

    public void Dispose() => _socket.Dispose();
}
