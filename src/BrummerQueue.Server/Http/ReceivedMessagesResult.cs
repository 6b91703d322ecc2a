using System.Buffers;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Http;

/// <summary>
/// The answer of <c>GET /api/channels/{name}/messages</c>: <c>{ messages, count }</c>. What a consuming receive
/// took is handed over only if it is written (SPEC.md §1 "Reads never lose"), so the body is serialized into a
/// buffer before anything is sent, and the messages go back to the head of the backlog when that fails, when the
/// client has gone before the write (a long-poll it gave up on), or when the write fails or finds the connection
/// closed. A write that completed counts as handed over.
/// </summary>
internal sealed class ReceivedMessagesResult(IMessageQueue queue, ReceiveResult result) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var body = new ArrayBufferWriter<byte>(256);
        try
        {
            using var writer = new Utf8JsonWriter(body, WireJson.WriterOptions);
            writer.WriteStartObject();
            MessageJson.WriteMessageArray(writer, "messages"u8, result.Messages);
            writer.WriteNumber("count"u8, result.Messages.Count);
            writer.WriteEndObject();
        }
        catch
        {
            queue.PutBack(result);
            throw;
        }

        if (result.Source is not null && httpContext.RequestServices.GetService<DeliveryFaults>()?.ShouldFail(DeliveryFaults.Http) == true)
        {
            httpContext.Abort();
        }

        if (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client is gone: nobody reads this answer.
            queue.PutBack(result);
            return;
        }

        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = body.WrittenCount;
        bool delivered;
        try
        {
            // A completed flush result means the connection stopped reading before it took the body.
            delivered = !(await httpContext.Response.BodyWriter.WriteAsync(body.WrittenMemory, CancellationToken.None)).IsCompleted;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            delivered = false;
        }

        if (!delivered)
        {
            queue.PutBack(result);
        }
    }
}
