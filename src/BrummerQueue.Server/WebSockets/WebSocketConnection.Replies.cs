using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// <c>queue_request</c> (docs/protocol.md "Request/reply"): sends with a private reply channel and answers <c>reply</c>
/// with the first reply, off the reader, like a blocking receive (it counts against the same limit of waiting calls).
/// No reply in time answers <c>error</c> with code <c>timeout</c>; when the socket ends the request ends with it.
/// </summary>
internal sealed partial class WebSocketConnection
{
    private static readonly string[] s_requestFields = ["channel", "type", "payload", "timeout"];

    private void Request(string? id, JsonElement data)
    {
        WireFields.RejectUnknown(data, s_requestFields);
        var channel = WireFields.RequireString(data, "channel", ChannelRule);
        var draft = WireFields.GetDraft(data, _queue.Options);
        var timeout = WireFields.GetSeconds(data, "timeout", ReceiveRequest.MaxTimeoutSeconds) ?? ReceiveRequest.DefaultTimeoutSeconds;
        if (Interlocked.Increment(ref _pendingReceives) > MaxPendingReceives)
        {
            Interlocked.Decrement(ref _pendingReceives);
            _onLimitHit?.Invoke(PendingReceivesLimit);
            throw new QueueException(QueueErrorCodes.RateLimited, "timeout", $"{QueueErrorCodes.RateLimited}: at most {MaxPendingReceives} blocking receives and requests may wait at once on one connection (a fixed limit); wait for one to end or open another connection");
        }

        _ = RequestAndReplyAsync(id, channel, draft, timeout);
    }

    private async Task RequestAndReplyAsync(string? id, string channel, MessageDraft draft, double timeout)
    {
        try
        {
            var (request, reply) = await _stopping.RequestAsync(_queue, channel, draft, timeout, _ended.Token);
            Reply(ServerFrames.Reply(id, request, reply));
        }
        catch (QueueException ex)
        {
            Reply(ServerFrames.Error(id, ex.Code, ex.Message, ex.Field));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended: the request ended with it (its reply channel is gone).
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A boundary: one request failed unexpectedly; log it, answer, keep serving.
            WebSocketLog.FrameFailed(_logger, ex, Id, "queue_request");
            Reply(ServerFrames.Error(id, ErrorCodes.InternalError, "the server failed to handle this request", null));
        }
        finally
        {
            Interlocked.Decrement(ref _pendingReceives);
        }
    }
}
