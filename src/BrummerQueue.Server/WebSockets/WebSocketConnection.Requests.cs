using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.WebSockets;

/// <summary>The request frames: parsing, validation, and the engine calls behind them.</summary>
internal sealed partial class WebSocketConnection
{
    private const string ChannelRule = "must be 1-128 characters from A-Z a-z 0-9 . _ - : /";

    // The most sends of one socket under way at once (docs/protocol.md "Pipelined sends"); then the reader waits for them.
    private const int MaxPipelinedSends = 64;
    private static readonly JsonElement s_emptyData = JsonDocument.Parse("{}").RootElement;

    // The data fields each request takes; any other field is refused (docs/protocol.md).
    private static readonly string[] s_sendFields = ["channel", "type", "payload", "ttl", "reply_to", "correlation_id"];
    private static readonly string[] s_subscribeFields = ["channel", "since_seq", "epoch", "buffer_size"];
    private static readonly string[] s_unsubscribeFields = ["subscription_id"];
    private static readonly string[] s_receiveFields = ["channel", "limit", "blocking", "timeout", "peek", "ack_timeout"];

    /// <summary>
    /// Handles one complete text frame. The reader has taken one reply slot for it; the frame answers
    /// with exactly one reply (now, or later for a blocking receive). Never throws for a bad frame.
    /// </summary>
    private void HandleFrame(ReadOnlyMemory<byte> frame)
    {
        string? id = null;
        var type = "?";
        try
        {
            // Inside the payload, bytes that are not UTF-8 break the payload rule, which the engine checks and words
            // the same for every face (SPEC.md section 1); anywhere else the frame itself is refused here.
            if (JsonSyntaxFault.TryFindInvalidUtf8(frame.Span, out var notUtf8) && notUtf8.Field != "payload")
            {
                ReplyInOrder(ServerFrames.Error(notUtf8.Id, ErrorCodes.InvalidJson, $"frame {notUtf8.Description}; frames are UTF-8 JSON text", notUtf8.Field));
                return;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(frame, PayloadEnvelope.DocumentOptions(_queue.Options));
            }
            catch (JsonException e)
            {
                // Keep the request's id when the reader got to it, and say what is wrong and where.
                var fault = JsonSyntaxFault.Describe(frame.Span, e);
                var code = fault.TooDeep ? QueueErrorCodes.InvalidArgument : ErrorCodes.InvalidJson;
                ReplyInOrder(ServerFrames.Error(fault.Id, code, $"frame {fault.Description}{(frame.IsEmpty ? "; send a JSON object { type, id?, data? }" : string.Empty)}", fault.Field));
                return;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    ReplyInOrder(ServerFrames.Error(null, ErrorCodes.InvalidJson, $"frame must be a JSON object {{ type, id?, data? }}, not {KindName(root.ValueKind)}", null));
                    return;
                }

                WireFields.RejectNamesThatAreNotText(root);
                if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
                {
                    if (idElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                    {
                        throw QueueException.Invalid("id", "id must be a string");
                    }

                    id = idElement.GetRawText();
                }

                type = WireFields.RequireString(root, "type", "names the request, e.g. queue_message");
                var data = s_emptyData;
                if (root.TryGetProperty("data", out var dataElement) && dataElement.ValueKind != JsonValueKind.Null)
                {
                    data = dataElement.ValueKind == JsonValueKind.Object
                        ? dataElement
                        : throw QueueException.Invalid("data", "data must be a JSON object");
                }

                Dispatch(type, id, data);
            }
        }
        catch (QueueException ex)
        {
            ReplyInOrder(ServerFrames.Error(id, ex.Code, ex.Message, ex.Field));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A boundary: one frame failed unexpectedly; log it, answer, keep serving.
            WebSocketLog.FrameFailed(_logger, ex, Id, type);
            ReplyInOrder(ServerFrames.Error(id, ErrorCodes.InternalError, "the server failed to handle this frame", null));
        }
    }

    private void Dispatch(string type, string? id, JsonElement data)
    {
        switch (type)
        {
            case "queue_message":
                Send(id, data);
                break;
            case "queue_subscribe":
                Subscribe(id, data);
                break;
            case "queue_unsubscribe":
                Unsubscribe(id, data);
                break;
            case "queue_receive":
                Receive(id, data);
                break;
            case "queue_request":
                Request(id, data);
                break;
            case "queue_ack":
                Ack(id, data);
                break;
            case "ping":
                WireFields.RejectUnknown(data);
                Reply(ServerFrames.Pong(id));
                break;
            default:
                Reply(ServerFrames.Error(id, ErrorCodes.UnknownType, $"unknown type '{type}'; expected queue_message, queue_request, queue_subscribe, queue_unsubscribe, queue_receive, queue_ack or ping", "type"));
                break;
        }
    }

    private void Send(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_sendFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var draft = WireFields.GetDraft(data, _queue.Options);

        // The ack is queued only after the send completed: the message is stored and fanned out. The in-memory store
        // completes at once. A send still under way (Redis) joins the pipeline of sends to its channel: the reader goes on
        // to the next frame, and the chain writes the acks in order (docs/protocol.md "Pipelined sends").
        var pipelining = !_pipelineTail.IsCompleted;
        if (pipelining && channel != _pipelineChannel)
        {
            // The reader lets only sends to the pipeline's channel through; anything else waits for the pipeline first.
            throw new InvalidOperationException("a send to another channel reached a running pipeline");
        }

        var sending = _queue.SendAsync(channel, draft);
        if (!pipelining)
        {
            if (sending.IsCompleted)
            {
                Reply(ServerFrames.Ack(id, sending.GetAwaiter().GetResult()));
                return;
            }

            _pipelineChannel = channel;
            _pipelined = 0;
        }

        _pipelineTail = AckAfterAsync(_pipelineTail, id, sending);
        if (++_pipelined >= MaxPipelinedSends)
        {
            // Enough under way: the reader waits for them all before it reads another frame.
            _requestInFlight = _pipelineTail;
        }
    }

    /// <summary>Writes a pipelined send's ack (or error) once every reply before it in the pipeline is written; never throws.</summary>
    private async Task AckAfterAsync(Task before, string? id, ValueTask<SendResult> sending)
    {
        await before;
        await AckAsync(id, sending);
    }

    /// <summary>
    /// A reply to a frame the reader handled while a pipeline runs (a send to its channel that failed a check): written
    /// after the pipeline's acks, in its place. Reader only.
    /// </summary>
    private void ReplyInOrder(byte[] frame)
    {
        if (_pipelineTail.IsCompleted)
        {
            Reply(frame);
            return;
        }

        _pipelineTail = ReplyAfterAsync(_pipelineTail, frame);
        _pipelined++;
    }

    private async Task ReplyAfterAsync(Task before, byte[] frame)
    {
        await before;
        Reply(frame);
    }

    /// <summary>Answers a send that completes later, with its ack or error, as <see cref="HandleFrame"/> would have; never throws.</summary>
    private async Task AckAsync(string? id, ValueTask<SendResult> sending)
    {
        try
        {
            Reply(ServerFrames.Ack(id, await sending));
        }
        catch (QueueException ex)
        {
            Reply(ServerFrames.Error(id, ex.Code, ex.Message, ex.Field));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            WebSocketLog.FrameFailed(_logger, ex, Id, "queue_message");
            Reply(ServerFrames.Error(id, ErrorCodes.InternalError, "the server failed to handle this frame", null));
        }
    }

    private void Subscribe(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_subscribeFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var bufferSize = WireFields.GetInteger(data, "buffer_size", 1, _queue.Options.MaxSubscriptionBufferSize);
        var (sinceSeq, epoch) = WireFields.GetResume(data);
        var subscription = _queue.Subscribe(channel, new SubscribeOptions { BufferSize = (int?)bufferSize, SinceSeq = sinceSeq, Epoch = epoch, Owner = Id });
        var state = new SocketSubscription(subscription);
        _subscriptions[subscription.Id] = state;

        // The reply is queued before the pump starts, and the writer sends replies first, so the
        // client always sees `subscribed` before the subscription's first push.
        Reply(ServerFrames.Subscribed(id, subscription));
        _ = PumpAsync(state);
    }

    private void Unsubscribe(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_unsubscribeFields);
        var subscriptionId = WireFields.RequireString(data, "subscription_id", "names a subscription of this connection");
        if (!_subscriptions.TryRemove(subscriptionId, out var state))
        {
            throw new QueueException(QueueErrorCodes.NotFound, "subscription_id", $"subscription_id '{subscriptionId}' is not an open subscription of this connection");
        }

        state.End();
        _queue.Unsubscribe(subscriptionId);
        Reply(ServerFrames.Unsubscribed(id, subscriptionId));
    }

    private void Receive(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_receiveFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var request = new ReceiveRequest
        {
            Channel = channel,
            Limit = (int)(WireFields.GetInteger(data, "limit", 1, ReceiveRequest.MaxLimit) ?? ReceiveRequest.DefaultLimit),
            Blocking = WireFields.GetBool(data, "blocking") ?? false,
            TimeoutSeconds = WireFields.GetSeconds(data, "timeout", ReceiveRequest.MaxTimeoutSeconds) ?? ReceiveRequest.DefaultTimeoutSeconds,
            Peek = WireFields.GetBool(data, "peek") ?? false,
            AckTimeoutSeconds = LeaseJson.AckTimeout(data),
            Owner = Id,
        };

        if (!request.Blocking || request.TimeoutSeconds == 0)
        {
            // Never waits (with the in-memory store it completes synchronously, so the reply keeps its place; a store
            // still under way is awaited by the reader before the next frame).
            var receiving = ReceiveAndReplyAsync(id, request, key: 0);
            _requestInFlight = receiving.IsCompleted ? null : receiving;
            return;
        }

        if (Interlocked.Increment(ref _pendingReceives) > MaxPendingReceives)
        {
            Interlocked.Decrement(ref _pendingReceives);
            _onLimitHit?.Invoke(PendingReceivesLimit);
            throw new QueueException(QueueErrorCodes.RateLimited, "blocking", $"{QueueErrorCodes.RateLimited}: at most {MaxPendingReceives} blocking receives may wait at once on one connection (a fixed limit); wait for one to end or open another connection");
        }

        var key = Interlocked.Increment(ref _receiveKeys);
        var receive = ReceiveAndReplyAsync(id, request, key);
        _receives[key] = receive;
        if (receive.IsCompleted)
        {
            _receives.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// A receive, off the reader when it waits; replies in the slot the reader took for its frame.
    /// <paramref name="key"/>: a blocking receive's key in <c>_receives</c> (it is counted in <c>_pendingReceives</c>);
    /// 0 for a receive that never waits.
    /// </summary>
    private async Task ReceiveAndReplyAsync(string? id, ReceiveRequest request, long key)
    {
        try
        {
            // At shutdown it answers an empty list (taking nothing) before the server's close 1001 (ShutdownAsync).
            var result = await _stopping.ReceiveAsync(_queue, request, _ended.Token);
            ReplyTaken(id, result);
        }
        catch (QueueException ex)
        {
            Reply(ServerFrames.Error(id, ex.Code, ex.Message, ex.Field));
        }
        catch (OperationCanceledException)
        {
            // The connection ended; the engine took no message for this receive.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A boundary: the reply could not be made (what was taken went back); answer and keep serving.
            WebSocketLog.FrameFailed(_logger, ex, Id, "queue_receive");
            Reply(ServerFrames.Error(id, ErrorCodes.InternalError, "the server failed to write the received messages; they were put back and can be received again", null));
        }
        finally
        {
            if (key != 0)
            {
                Interlocked.Decrement(ref _pendingReceives);
                _receives.TryRemove(key, out _);
            }
        }
    }

    /// <summary>
    /// Moves a subscription's messages into the outbound queue, in seq order, until it closes. It takes only as many
    /// as the outbound queue has room for, so a socket that reads slowly leaves them in the subscription's buffer,
    /// which alone drops when full; what it dropped rides on the next push, counted once.
    /// </summary>
    private async Task PumpAsync(SocketSubscription state)
    {
        var batch = new List<QueueMessage>(16);
        var subscription = state.Subscription;
        long dropped = 0;
        try
        {
            while (await subscription.WaitToReadAsync(_ended.Token))
            {
                var slots = await _outbound.WaitForPushSpaceAsync(64, _ended.Token);
                batch.Clear();
                var droppedNow = await subscription.ReadBatchAsync(slots, batch, _ended.Token);
                _outbound.ReturnPushSpace(slots - batch.Count);
                if (droppedNow > 0)
                {
                    dropped += droppedNow;
                    _onPushDropped?.Invoke(droppedNow);
                }

                foreach (var message in batch)
                {
                    _outbound.TryEnqueuePush(state, message, dropped);
                    dropped = 0;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended.
        }
        catch (ObjectDisposedException)
        {
            // The connection ended and disposed its token source.
        }
        finally
        {
            _subscriptions.TryRemove(new KeyValuePair<string, SocketSubscription>(state.Id, state));
        }

        if (!state.Ended && !_ending)
        {
            // Ended by someone else (an unsubscribe by id from another client, or cleanup): tell the client.
            await NotifyEndedAsync(state.Id);
        }
    }

    private async Task NotifyEndedAsync(string subscriptionId)
    {
        try
        {
            await _outbound.WaitForReplySpaceAsync(_ended.Token);
            Reply(ServerFrames.Unsubscribed(null, subscriptionId));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended meanwhile.
        }
    }

    private void Reply(byte[] frame) => _outbound.TryEnqueueReply(frame);

    /// <summary>
    /// Replies with received messages. What a consuming receive took goes back (SPEC.md §1 "Reads never lose")
    /// when the reply cannot be serialized or queued (the connection is ending); the writer puts it back when
    /// the send fails or never happens.
    /// </summary>
    private void ReplyTaken(string? id, ReceiveResult result)
    {
        byte[] frame;
        try
        {
            frame = ServerFrames.Messages(id, result.Messages);
        }
        catch
        {
            _queue.PutBack(result);
            throw;
        }

        if (!_outbound.TryEnqueueReply(frame, result.Source is null ? null : result))
        {
            _queue.PutBack(result);
        }
    }

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
