using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// One client's WebSocket. Three kinds of task touch it: the reader (this connection's
/// <see cref="RunAsync"/>: reads frames one at a time and answers them in order), the single writer
/// (drains the <see cref="OutboundQueue"/>), and one pump per subscription (moves messages from the
/// engine's subscription buffer into the outbound queue). A blocking <c>queue_receive</c> runs as its
/// own task so the socket's other frames go on. Everything the connection owns ends with it:
/// subscriptions (owner = <see cref="Id"/>), pending receives, timers.
/// </summary>
internal sealed partial class WebSocketConnection : IDisposable
{
    /// <summary>Blocking receives one connection may have waiting at once.</summary>
    public const int MaxPendingReceives = 32;

    /// <summary>The name under which <see cref="MaxPendingReceives"/> is counted as a limit hit (a fixed limit, not a setting).</summary>
    public const string PendingReceivesLimit = "MaxPendingReceives";

    /// <summary>
    /// Bytes of unsent replies at which the reader stops handling frames until the client reads: without it,
    /// pipelined receives of large messages could queue gigabytes of replies for a client that never reads.
    /// </summary>
    public const long ReplyByteBudget = 8L << 20;

    private const int InitialBufferBytes = 4096;
    private const int KeepBufferBytes = 64 * 1024;

    /// <summary>A batched frame is closed once it holds this many bytes (one more part may take it past).</summary>
    private const int MaxBatchBytes = 64 * 1024;
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_receiveDrainTimeout = TimeSpan.FromSeconds(1);

    private readonly WebSocket _socket;
    private readonly IMessageQueue _queue;
    private readonly ServerOptions _options;
    private readonly ServerIdentity _identity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OutboundQueue _outbound;
    private readonly FrameRateLimiter _rateLimiter;
    private readonly Action<string>? _onLimitHit;

    // Counts what the subscriptions' buffers dropped before their pushes (the metric of lost pushes).
    private readonly Action<long>? _onPushDropped;

    // Cancelled when the connection ends: stops the writer, the pumps and pending receives.
    private readonly CancellationTokenSource _ended = new();

    // Cancels the reader: linked to the request's abort, and armed with a deadline once the server starts a close.
    private readonly CancellationTokenSource _readCancel;

    // Subscriptions of this socket by id. Added by the reader; removed by the reader (unsubscribe) or the pump that ends.
    private readonly ConcurrentDictionary<string, SocketSubscription> _subscriptions = new(StringComparer.Ordinal);

    private readonly ITimer? _idleTimer;

    // Why the read loop broke when the socket ended without a close handshake; null after a clean close. Written by
    // RunAsync's reader before EndAsync, which reads it on the same flow.
    private string? _endedAbruptly;

    private readonly HostStopping _stopping;

    // Blocking receives in flight by a key from _receiveKeys: added by the reader, removed by each receive as it ends.
    private readonly ConcurrentDictionary<long, Task> _receives = new();

    // Lock-free counter (reader only increments) giving each blocking receive its key.
    private long _receiveKeys;

    // Lock-free counter of blocking receives in flight (reader increments, receive tasks decrement).
    private int _pendingReceives;

    // Time of the last complete frame, a TimeProvider timestamp. Written by the reader, read by the idle timer (a stale read only delays the close).
    private long _lastFrameTimestamp;

    // 0 until the server starts closing (idle, limit, shutdown); then 1. Set once with Interlocked.
    private int _serverClosing;

    // Set by the reader when the connection starts ending; read by pumps, which then end silently.
    private volatile bool _ending;

    private Task _writer = Task.CompletedTask;

    // A send or non-waiting receive the store has not finished (it answers by itself): set by the frame's handler, awaited
    // and cleared by the reader before it reads the next frame, so such requests run one at a time in arrival order and
    // their replies keep their places. Reader only.
    private Task? _requestInFlight;

    // Pipelined sends (docs/protocol.md "Pipelined sends"): consecutive sends to one channel that the store has not finished
    // are started without waiting, and their acks written in order by a chain of tasks whose tail this is; the channel
    // they go to; how many are in the chain. A frame that is not a send to that channel waits for the tail first. Reader only.
    private Task _pipelineTail = Task.CompletedTask;
    private string? _pipelineChannel;
    private int _pipelined;

    public WebSocketConnection(WebSocket socket, IMessageQueue queue, ServerOptions options, ServerIdentity identity, TimeProvider time, HostStopping stopping, ILogger logger, Action<long>? onPushDropped, CancellationToken requestAborted, Action<string>? onLimitHit = null)
    {
        _stopping = stopping;
        _onLimitHit = onLimitHit;
        Id = SubscriptionOwner.NewWebSocketId();
        _socket = socket;
        _queue = queue;
        _options = options;
        _identity = identity;
        _time = time;
        _logger = logger;
        _onPushDropped = onPushDropped;
        _outbound = new OutboundQueue(Math.Max(1, options.SocketSendQueue), replyCapacity: Math.Max(1, options.SocketSendQueue), ReplyByteBudget);
        _rateLimiter = new FrameRateLimiter(options.MaxFramesPerSecond, time);
        _readCancel = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        _lastFrameTimestamp = time.GetTimestamp();
        if (options.IdleTimeoutSeconds > 0)
        {
            var period = TimeSpan.FromSeconds(options.IdleTimeoutSeconds) / 2;
            _idleTimer = time.CreateTimer(static state => ((WebSocketConnection)state!).CheckIdle(), this, period, period);
        }
    }

    /// <summary>The client id sent in the greeting; also the owner tag of this socket's subscriptions.</summary>
    public string Id { get; }

    /// <summary>The host's test seam for failing replies that hand over consumed messages; null in production code paths that have none.</summary>
    public DeliveryFaults? Faults { get; init; }

    /// <summary>
    /// The client asked for batched frames (<c>?batch=1</c> on the socket's URL): every frame the server sends is a JSON
    /// array of one or more of the messages of docs/protocol.md, in order — what was queued for the socket when the
    /// writer woke, up to <see cref="MaxBatchBytes"/>. No linger: a frame never waits for more.
    /// </summary>
    public bool Batched { get; init; }

    /// <summary>Serves the socket until either side closes it or it breaks.</summary>
    public async Task RunAsync()
    {
        _writer = WriteLoopAsync();
        WebSocketLog.Connected(_logger, Id);
        await _outbound.WaitForReplySpaceAsync(_readCancel.Token);
        _outbound.TryEnqueueReply(ServerFrames.Connected(Id, _identity));
        try
        {
            await ReadLoopAsync();
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went without a close frame (or the server aborted the socket): no fault, so the
            // connection's one end line says so, without the exception's stack trace.
            _endedAbruptly = ex.Message;
        }
        finally
        {
            await EndAsync();
        }
    }

    /// <summary>
    /// Starts a server-side close: queued replies go out, then the close frame; the reader waits for
    /// the client's close until a deadline, then aborts. Callable from any thread; the first call wins.
    /// </summary>
    public void BeginServerClose(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _serverClosing, 1) != 0)
        {
            return;
        }

        WebSocketLog.ClosedByServer(_logger, Id, status.ToString(), reason);
        _outbound.EnqueueClose(status, reason);
        try
        {
            _readCancel.CancelAfter(s_closeTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The connection already ended.
        }
    }

    /// <summary>
    /// Ends the connection because the host is stopping: the waiting receives, which end empty once
    /// <see cref="HostStopping"/> fires, answer first; then the close 1001 follows them. Callable from any thread.
    /// </summary>
    public async Task ShutdownAsync()
    {
        try
        {
            // Receives never throw (they answer errors as frames); the bound only guards against one that hangs.
            await Task.WhenAll(_receives.Values).WaitAsync(s_receiveDrainTimeout, _time);
        }
        catch (TimeoutException)
        {
            // Close anyway; the receive ends with the connection and takes nothing.
        }

        BeginServerClose(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
    }

    public void Dispose()
    {
        _idleTimer?.Dispose();
        _outbound.Dispose();
        _readCancel.Dispose();
        _ended.Dispose();
    }

    private bool ServerClosing => Volatile.Read(ref _serverClosing) != 0;

    private async Task ReadLoopAsync()
    {
        var maxFrame = Math.Max(1, _options.MaxFrameBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        var count = 0;
        var discarding = false;
        try
        {
            while (true)
            {
                if (!discarding && count == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)maxFrame + 1));
                    buffer.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                // Never read past maxFrame + 1 bytes of one message: one byte over is enough to refuse it.
                var target = discarding
                    ? buffer.AsMemory(0, Math.Min(buffer.Length, InitialBufferBytes))
                    : buffer.AsMemory(count, Math.Min(buffer.Length, maxFrame + 1) - count);
                var result = await _socket.ReceiveAsync(target, _readCancel.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (discarding || ServerClosing)
                {
                    // After a server-side close or an oversized frame: read and drop until the client's close.
                    discarding = true;
                    count = 0;
                    continue;
                }

                count += result.Count;
                if (count > maxFrame)
                {
                    await _outbound.WaitForReplySpaceAsync(_readCancel.Token);
                    _onLimitHit?.Invoke(nameof(ServerOptions.MaxFrameBytes));
                    _outbound.TryEnqueueReply(ServerFrames.Error(
                        null,
                        QueueErrorCodes.MessageTooLarge,
                        $"{QueueErrorCodes.MessageTooLarge}: frame is larger than the limit of {maxFrame} bytes ({SettingNames.RaiseHint(nameof(ServerOptions.MaxFrameBytes))})",
                        null));
                    BeginServerClose(WebSocketCloseStatus.MessageTooBig, "frame too large");
                    discarding = true;
                    count = 0;
                    continue;
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                Volatile.Write(ref _lastFrameTimestamp, _time.GetTimestamp());
                await _outbound.WaitForReplyBytesAsync(_readCancel.Token);
                await _outbound.WaitForReplySpaceAsync(_readCancel.Token);
                if (!_rateLimiter.TryAcquire())
                {
                    _onLimitHit?.Invoke(nameof(ServerOptions.MaxFramesPerSecond));
                    _outbound.TryEnqueueReply(ServerFrames.Error(
                        null,
                        QueueErrorCodes.RateLimited,
                        $"{QueueErrorCodes.RateLimited}: more than {_options.MaxFramesPerSecond} frames per second ({SettingNames.RaiseHint(nameof(ServerOptions.MaxFramesPerSecond))})",
                        null));
                    BeginServerClose(WebSocketCloseStatus.PolicyViolation, "rate limit exceeded");
                    discarding = true;
                }
                else if (result.MessageType == WebSocketMessageType.Binary)
                {
                    // Its error comes after the replies of the sends before it.
                    await _pipelineTail;
                    _outbound.TryEnqueueReply(ServerFrames.Error(JsonSyntaxFault.ReadId(buffer.AsSpan(0, count)), ErrorCodes.InvalidJson, "binary frames are not supported; send JSON text frames", null));
                }
                else
                {
                    if (!_pipelineTail.IsCompleted && !SendFramePeek.IsSendTo(buffer.AsSpan(0, count), _pipelineChannel!, PayloadEnvelope.MaxDepth(_queue.Options)))
                    {
                        await _pipelineTail;
                    }

                    HandleFrame(buffer.AsMemory(0, count));
                    if (_requestInFlight is { } request)
                    {
                        _requestInFlight = null;
                        await request;
                    }
                }

                count = 0;
                if (buffer.Length > KeepBufferBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);

            // Sends under way are stored or refused whatever happens to the socket; their acks go out while it can write.
            await _pipelineTail;
        }
    }

    private async Task WriteLoopAsync()
    {
        // Rented from the shared pool, kept while frames keep coming, given back when the socket has nothing to send.
        using var frame = new PooledFrameBuffer();

        // Replies in the frame being sent that hand over consumed messages; put back if the send fails.
        var sending = new List<ReceiveResult>();
        try
        {
            while (true)
            {
                if (!_outbound.TryDequeue(out var item))
                {
                    // Nothing queued: an idle socket holds no frame buffer while it waits.
                    frame.Release();
                    if (await _outbound.DequeueAsync(_ended.Token) is not { } next)
                    {
                        break;
                    }

                    item = next;
                }

                var parts = 0;
                frame.Reset();
                while (true)
                {
                    if (item.CloseStatus is { } status)
                    {
                        await SendFrameAsync(frame, parts, sending);
                        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                        {
                            await _socket.CloseOutputAsync(status, item.CloseReason, _ended.Token);
                        }

                        return;
                    }

                    if (item.Reply is { } reply && !Batched)
                    {
                        // Unbatched, a reply is its own frame, sent as made.
                        if (item.Taken is { } taken)
                        {
                            sending.Add(taken);
                        }

                        await SendAsync(reply, sending);
                        break;
                    }

                    parts += Append(frame, item, parts, sending);
                    if (!Batched || frame.WrittenCount >= MaxBatchBytes || !_outbound.TryDequeue(out item))
                    {
                        break;
                    }
                }

                await SendFrameAsync(frame, parts, sending);
                if (frame.Capacity > KeepBufferBytes + MaxBatchBytes)
                {
                    // A frame with a large message: give its array back rather than keep it for small ones.
                    frame.Release();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The socket broke or the connection ended; the reader notices and cleans up. A reply whose send
            // failed handed nothing over: its messages go back (SPEC.md §1 "Reads never lose").
            foreach (var taken in sending)
            {
                _queue.PutBack(taken);
            }

            _readCancel.Cancel();
        }
    }

    /// <summary>
    /// Adds one reply or push to the frame being built (batched: as the next element of a JSON array); returns 1, or
    /// 0 for a push of a subscription the client has ended.
    /// </summary>
    private int Append(PooledFrameBuffer frame, OutboundItem item, int parts, List<ReceiveResult> sending)
    {
        if (item.Reply is null && item.Subscription!.Ended)
        {
            return 0;
        }

        if (Batched)
        {
            frame.Write(parts == 0 ? "["u8 : ","u8);
        }

        if (item.Reply is { } reply)
        {
            frame.Write(reply);
            if (item.Taken is { } taken)
            {
                sending.Add(taken);
            }
        }
        else
        {
            ServerFrames.WritePush(frame, item.Subscription!.PushHead, item.Message!, item.Dropped);
        }

        return 1;
    }

    /// <summary>Sends the frame built so far (closing its array when batched), if it has any part.</summary>
    private async Task SendFrameAsync(PooledFrameBuffer frame, int parts, List<ReceiveResult> sending)
    {
        if (parts == 0)
        {
            return;
        }

        if (Batched)
        {
            frame.Write("]"u8);
        }

        await SendAsync(frame.WrittenMemory, sending);
        frame.Reset();
    }

    /// <summary>Sends one text frame; what it hands over (<paramref name="sending"/>) counts as delivered once the send returns.</summary>
    private async Task SendAsync(ReadOnlyMemory<byte> text, List<ReceiveResult> sending)
    {
        if (sending.Count > 0 && Faults?.ShouldFail(DeliveryFaults.WebSocket) == true)
        {
            _socket.Abort();
        }

        await _socket.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, _ended.Token);
        sending.Clear();
    }

    private async Task EndAsync()
    {
        // Subscriptions end first, so a client that saw the close handshake finds them gone.
        _ending = true;
        _queue.UnsubscribeOwner(Id);
        _outbound.EnqueueClose(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, _socket.CloseStatus is null ? "closing" : string.Empty);
        _outbound.Complete();
        try
        {
            await _writer.WaitAsync(s_closeTimeout, _time);
        }
        catch (TimeoutException)
        {
            // The peer stopped reading; cancelling below aborts the send.
        }

        await _ended.CancelAsync();
        await _writer;

        // Replies the writer never sent (it stopped on a broken socket) handed nothing over: put their messages back.
        foreach (var taken in _outbound.DrainUnsentTaken())
        {
            _queue.PutBack(taken);
        }

        _idleTimer?.Dispose();
        if (_socket.State != WebSocketState.Closed)
        {
            _socket.Abort();
        }

        if (_endedAbruptly is { } reason)
        {
            WebSocketLog.Aborted(_logger, Id, reason);
        }
        else
        {
            WebSocketLog.Disconnected(_logger, Id);
        }
    }

    private void CheckIdle()
    {
        if (!_subscriptions.IsEmpty || Volatile.Read(ref _pendingReceives) > 0)
        {
            return;
        }

        if (_time.GetElapsedTime(Volatile.Read(ref _lastFrameTimestamp)) >= TimeSpan.FromSeconds(_options.IdleTimeoutSeconds))
        {
            BeginServerClose(WebSocketCloseStatus.NormalClosure, "idle timeout");
        }
    }
}
