using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Http;

/// <summary>
/// <c>POST /api/channels/{name}/requests?timeout=</c> (docs/protocol.md "Request/reply"): sends the body
/// <c>{type?, payload?}</c> as a request and long-polls for the first reply: 200 <c>{ reply, request_id, delivered_to }</c>,
/// or 504 problem+json (code <c>timeout</c>) when none came within <c>timeout</c> seconds (default 30, at most 300).
/// </summary>
internal static partial class HttpApiEndpoints
{
    private const string RequestsSuffix = "/requests";
    private static readonly string[] s_requestFields = ["type", "payload"];

    private static bool TryGetRequestChannel(string? path, out string channel)
    {
        channel = string.Empty;
        if (path is null || !path.EndsWith(RequestsSuffix, StringComparison.Ordinal) || path.Length == RequestsSuffix.Length)
        {
            return false;
        }

        channel = Uri.UnescapeDataString(path[..^RequestsSuffix.Length]);
        return true;
    }

    private static async Task<IResult> RequestAsync(HttpContext context, string channel, IMessageQueue queue)
    {
        var limit = (long)queue.Options.MaxMessageBytes + BodyOverheadBytes;
        if (context.Request.ContentLength > limit)
        {
            return TooLarge(context, limit);
        }

        var body = await ReadBodyAsync(context.Request.Body, limit, context.RequestAborted);
        if (body is null)
        {
            return TooLarge(context, limit);
        }

        try
        {
            var timeout = QuerySeconds(context.Request.Query, "timeout", ReceiveRequest.MaxTimeoutSeconds) ?? ReceiveRequest.DefaultTimeoutSeconds;
            MessageDraft draft = default;
            if (!body.Value.Span.Trim(" \t\r\n"u8).IsEmpty)
            {
                using var document = ParseBody(body.Value, queue.Options);
                WireFields.RejectUnknown(document.RootElement, s_requestFields);
                draft = WireFields.GetDraft(document.RootElement, queue.Options);
            }

            var (request, reply) = await context.RequestServices.GetRequiredService<HostStopping>().RequestAsync(queue, channel, draft, timeout, context.RequestAborted);
            return new JsonBodyResult(StatusCodes.Status200OK, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("reply"u8);
                MessageJson.WriteMessage(w, reply);
                w.WriteString("request_id"u8, request.Message.Id);
                w.WriteNumber("delivered_to"u8, request.DeliveredTo);
                w.WriteEndObject();
            });
        }
        catch (QueueException ex)
        {
            return ApiProblems.From(ex);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: the request ended with it (its reply channel is gone).
            return Results.Empty;
        }
    }
}
