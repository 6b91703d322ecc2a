using System.Text.Json;
using BrummerQueue.Server.Hosting;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// SPEC.md §1 "Reads never lose" for MCP. The SDK serializes a tool's result and sends the JSON-RPC response
/// after the tool handler returned, so the handler cannot see whether its reply got out. A consuming
/// <c>queue_receive</c> therefore parks what it took in the request's <see cref="JsonRpcMessageContext.Items"/>
/// (shared by the request, its response and both message-filter pipelines). The outgoing filter sees the
/// response go out: when the transport's write completes, the messages were handed over and the record is
/// cleared; when the client is already gone (the Streamable HTTP POST was aborted, where the SDK would drop
/// the response without an error) the record stays. The incoming filter wraps the whole request, handler and
/// response send included: whatever record is still there when it ends (serializing the result failed, the
/// request was cancelled before the send, the write threw, the client was gone) is put back.
/// Stdio: when stdin has closed, the SDK's transport drops a response without an error; the session then
/// ends and cancels waiting receives, which take nothing.
/// </summary>
internal static class ReceiveDelivery
{
    /// <summary>
    /// The <c>_meta</c> key of attach mode's receipts. A forwarding <c>brummerq mcp</c> sets it on the
    /// <c>queue_receive</c> it forwards to a receipt id it chose (a string; <c>true</c> lets the hosting server choose
    /// one); the hosting server keeps what it took under that id and answers with it under the same key. The forwarding
    /// process hands the id to <see cref="PutBackTool"/> when it cannot deliver the result to its own client, also
    /// when the call failed and it never saw the answer (an id the hosting server never kept is a harmless not-found).
    /// </summary>
    public const string ReceiptMeta = "brummerq/receipt";

    /// <summary>
    /// The tool, not listed by <c>tools/list</c>, that puts back what a receipt names: <c>{ receipt }</c>. Only the
    /// session that got the receipt can use it, and only for its most recent receipts (<see cref="McpSessionState"/>).
    /// </summary>
    public const string PutBackTool = "queue_put_back";

    private const string TakenKey = "brummerq/taken";
    private const string ReceiptRequestedKey = "brummerq/receipt-requested";

    /// <summary>The longest receipt id a caller may choose; a longer one is ignored and the hosting server chooses.</summary>
    private const int MaxChosenReceiptLength = 64;

    /// <summary>Adds the two filters to a server's options (local queue, HTTP and stdio).</summary>
    public static void AddFilters(McpServerOptions options)
    {
        options.Filters.Message.IncomingFilters.Add(PutBackUndelivered);
        options.Filters.Message.OutgoingFilters.Add(MarkDelivered);
    }

    /// <summary>
    /// Parks a consuming receive's result until its response is sent. Without <paramref name="items"/> (a caller
    /// outside the SDK's pipeline) the result counts as handed over when the tool returns.
    /// </summary>
    public static void Hold(IDictionary<string, object?>? items, HeldReceive held) =>
        Hold(items, () =>
        {
            held.PutBack();
            return ValueTask.CompletedTask;
        });

    /// <summary>Parks how to return what a request took (attach mode: a call to the hosting server) until its response is sent.</summary>
    public static void Hold(IDictionary<string, object?>? items, Func<ValueTask> putBack)
    {
        if (items is not null)
        {
            items[TakenKey] = putBack;
        }
    }

    /// <summary>
    /// Marks a <c>tools/call</c> whose caller asked for a receipt (<see cref="ReceiptMeta"/> in its <c>_meta</c>), with
    /// the id it chose when that is a non-empty string of at most 64 characters.
    /// </summary>
    public static void NoteReceiptRequest(RequestContext<CallToolRequestParams> request)
    {
        if (request.Params?.Meta?[ReceiptMeta] is { } requested)
        {
            request.Items[ReceiptRequestedKey] =
                requested.GetValueKind() == JsonValueKind.String && requested.GetValue<string>() is { Length: > 0 and <= MaxChosenReceiptLength } chosen
                    ? chosen
                    : string.Empty;
        }
        else if (request.Params?.Meta?.ContainsKey(ReceiptMeta) == true)
        {
            request.Items[ReceiptRequestedKey] = string.Empty;
        }
    }

    /// <summary>True when the request asked for a receipt (see <see cref="NoteReceiptRequest"/>).</summary>
    public static bool ReceiptRequested(IDictionary<string, object?>? items) =>
        items is not null && items.ContainsKey(ReceiptRequestedKey);

    /// <summary>The receipt id the caller chose (see <see cref="NoteReceiptRequest"/>), or null to choose one.</summary>
    public static string? ChosenReceipt(IDictionary<string, object?>? items) =>
        items is not null && items.TryGetValue(ReceiptRequestedKey, out var value) && value is string { Length: > 0 } chosen ? chosen : null;

    private static McpMessageHandler PutBackUndelivered(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        try
        {
            await next(context, cancellationToken);
        }
        finally
        {
            if (context.JsonRpcMessage is JsonRpcRequest && Take(context.JsonRpcMessage.Context?.Items) is { } putBack)
            {
                await putBack();
            }
        }
    };

    private static McpMessageHandler MarkDelivered(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        var items = context.JsonRpcMessage is JsonRpcResponse ? context.JsonRpcMessage.Context?.Items : null;
        if (items is null || !items.ContainsKey(TakenKey))
        {
            await next(context, cancellationToken);
            return;
        }

        // Over Streamable HTTP the response goes into the POST's body; a POST the client aborted gets nothing,
        // and the SDK skips the write without an error. The send still runs so the SDK completes the request.
        var services = context.Services ?? context.Server.Services;
        var clientGone = services?.GetService<IHttpContextAccessor>()?.HttpContext?.RequestAborted.IsCancellationRequested ?? false;
        if (services?.GetService<DeliveryFaults>()?.ShouldFail(DeliveryFaults.Mcp) == true)
        {
            throw new IOException("Failed to send message (injected by a test through DeliveryFaults).");
        }

        await next(context, cancellationToken);
        if (!clientGone)
        {
            items.Remove(TakenKey);
        }
    };

    private static Func<ValueTask>? Take(IDictionary<string, object?>? items)
    {
        if (items is null || !items.Remove(TakenKey, out var value))
        {
            return null;
        }

        return value as Func<ValueTask>;
    }
}
