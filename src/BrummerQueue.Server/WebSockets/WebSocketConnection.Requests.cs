using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.WebSockets;

/// <summary>The request frames: parsing, validation, and the engine calls behind them.</summary>
internal sealed partial class WebSocketConnection
{
    private const string ChannelRule = "must be 1-128 characters from A-Z a-z 0-9 . _ - : /";
    private static readonly JsonElement s_emptyData = JsonDocument.Parse("{}").RootElement;

    // The data fields each request takes; any other field is refused (docs/protocol.md).
    private static readonly string[] s_sendFields = ["channel", "type", "payload", "ttl"];
    private static readonly string[] s_subscribeFields = ["channel", "since_seq", "buffer_size"];
    private static readonly string[] s_unsubscribeFields = ["subscription_id"];
    private static readonly string[] s_receiveFields = ["channel", "limit", "blocking", "timeout", "peek"];

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
            // A text frame must be UTF-8 (RFC 6455 5.6). Kestrel's WebSocket closes with 1007 before such a
            // frame gets here, but not every WebSocket implementation checks (the in-process test server does not).
            if (!System.Text.Unicode.Utf8.IsValid(frame.Span))
            {
                Reply(ServerFrames.Error(null, ErrorCodes.InvalidJson, "frame is not valid UTF-8 text", null));
                return;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(frame, new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException)
            {
                Reply(ServerFrames.Error(null, ErrorCodes.InvalidJson, "frame is not valid JSON", null));
                return;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    Reply(ServerFrames.Error(null, ErrorCodes.InvalidJson, "frame must be a JSON object { type, id?, data? }", null));
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
            Reply(ServerFrames.Error(id, ex.Code, ex.Message, ex.Field));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A boundary: one frame failed unexpectedly; log it, answer, keep serving.
            WebSocketLog.FrameFailed(_logger, ex, Id, type);
            Reply(ServerFrames.Error(id, ErrorCodes.InternalError, "the server failed to handle this frame", null));
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
            case "ping":
                WireFields.RejectUnknown(data);
                Reply(ServerFrames.Pong(id));
                break;
            default:
                Reply(ServerFrames.Error(id, ErrorCodes.UnknownType, $"unknown type '{type}'; expected queue_message, queue_subscribe, queue_unsubscribe, queue_receive or ping", "type"));
                break;
        }
    }

    private void Send(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_sendFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var draft = WireFields.GetDraft(data, _queue.Options);

        // The ack is queued only after Send returned: the message is stored and fanned out.
        var result = _queue.Send(channel, draft);
        Reply(ServerFrames.Ack(id, result));
    }

    private void Subscribe(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_subscribeFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var bufferSize = WireFields.GetInteger(data, "buffer_size", 1, _queue.Options.MaxSubscriptionBufferSize);
        long? sinceSeq;
        try
        {
            sinceSeq = WireFields.GetInteger(data, "since_seq", 0, long.MaxValue);
        }
        catch (QueueException)
        {
            throw QueueException.Invalid("since_seq", "since_seq must be an integer of at least 0");
        }

        var subscription = _queue.Subscribe(channel, new SubscribeOptions { BufferSize = (int?)bufferSize, SinceSeq = sinceSeq, Owner = Id });
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
        };

        if (!request.Blocking || request.TimeoutSeconds == 0)
        {
            var messages = new List<QueueMessage>(Math.Min(request.Limit, 16));
            _queue.Receive(channel, request.Limit, request.Peek, messages);
            Reply(ServerFrames.Messages(id, messages));
            return;
        }

        if (Interlocked.Increment(ref _pendingReceives) > MaxPendingReceives)
        {
            Interlocked.Decrement(ref _pendingReceives);
            throw new QueueException(QueueErrorCodes.LimitExceeded, "blocking", $"at most {MaxPendingReceives} blocking receives may wait at once on one connection");
        }

        _ = ReceiveBlockingAsync(id, request);
    }

    /// <summary>A blocking receive, off the reader; replies in the slot the reader took for its frame.</summary>
    private async Task ReceiveBlockingAsync(string? id, ReceiveRequest request)
    {
        try
        {
            var result = await _queue.ReceiveAsync(request, _ended.Token);
            Reply(ServerFrames.Messages(id, result.Messages));
        }
        catch (QueueException ex)
        {
            Reply(ServerFrames.Error(id, ex.Code, ex.Message, ex.Field));
        }
        catch (OperationCanceledException)
        {
            // The connection ended; the engine took no message for this receive.
        }
        finally
        {
            Interlocked.Decrement(ref _pendingReceives);
        }
    }

    /// <summary>Moves a subscription's messages into the outbound queue, in seq order, until it closes.</summary>
    private async Task PumpAsync(SocketSubscription state)
    {
        var batch = new List<QueueMessage>(16);
        var subscription = state.Subscription;
        try
        {
            while (await subscription.WaitToReadAsync(_ended.Token))
            {
                batch.Clear();
                var dropped = subscription.ReadBatch(64, batch);
                if (batch.Count == 0)
                {
                    state.AddDropped(dropped);
                    continue;
                }

                foreach (var message in batch)
                {
                    _outbound.EnqueuePush(state, message, dropped);
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
}
