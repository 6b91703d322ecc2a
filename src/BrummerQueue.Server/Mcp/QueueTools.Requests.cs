using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary><c>queue_request</c> (docs/protocol.md "Request/reply"): send with a private reply channel and wait for the first reply.</summary>
internal sealed partial class QueueTools
{
    /// <summary>
    /// <c>{ reply: message, request_id, delivered_to }</c>; no reply within <c>timeout</c> is an <c>isError</c> result
    /// (code <c>timeout</c>, naming the channel and the request). While it waits, <see cref="ReceiveKeepAlive"/> sends progress.
    /// </summary>
    private async ValueTask<CallToolResult> RequestAsync(ToolArguments args, CancellationToken cancellationToken)
    {
        var channel = args.String("channel", "1-128 characters from A-Z a-z 0-9 . _ - : /")
            ?? throw QueueException.Invalid("channel", "channel is required and must be 1-128 characters from A-Z a-z 0-9 . _ - : /");
        var type = args.String("type", "1-128 characters");
        var timeout = args.Number("timeout", () => QueueException.Invalid("timeout", $"timeout must be a number of seconds greater than 0 and at most {ReceiveRequest.MaxTimeoutSeconds}"));
        var payload = args.TryGet("payload", out var element) ? JsonPayload.FromElement(element) : JsonPayload.Null;
        var (request, reply) = await _stopping.RequestAsync(_queue, channel, new MessageDraft(type, payload), timeout ?? ReceiveRequest.DefaultTimeoutSeconds, cancellationToken);
        return ToolResults.Json(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("reply");
            MessageJson.WriteMessage(w, reply);
            w.WriteString("request_id", request.Message.Id);
            w.WriteNumber("delivered_to", request.DeliveredTo);
            w.WriteEndObject();
        });
    }
}
