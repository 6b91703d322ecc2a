using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Carries a tool result's <c>structuredContent</c> past the SDK's result serializer. The SDK turns every
/// handler result into a node with its own options before it is sent (at most 64 levels for the whole
/// result, so a receive of a payload at the 64-level limit, 4 levels inside <c>structuredContent</c>, failed
/// there: a bare <c>-32603 "An error occurred."</c> after the messages were taken). So the handler
/// hands back the result without it (<see cref="Defer"/>), and the outgoing message filter
/// (<see cref="Filter"/>) puts it into the JSON-RPC response the transport writes (Streamable HTTP writes
/// up to 1,000 levels; stdio uses <see cref="PayloadDepthStreamTransport"/>). The text content, a string,
/// carries the same JSON byte for byte and never needed this. Stateless and thread-safe.
/// </summary>
internal static class StructuredContentRelay
{
    private const string ItemKey = "brummerq.structuredContent";

    /// <summary>Moves <paramref name="result"/>'s structured content onto the request, for <see cref="Filter"/> to put into the response.</summary>
    public static CallToolResult Defer(MessageContext request, CallToolResult result)
    {
        if (result.StructuredContent is { } structured)
        {
            request.Items[ItemKey] = structured;
            result.StructuredContent = null;
        }

        return result;
    }

    /// <summary>The outgoing filter: a response whose request deferred its structured content gets it back.</summary>
    public static McpMessageHandler Filter(McpMessageHandler next) => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcResponse { Result: JsonObject result } response
            && response.Context?.Items is { } items
            && items.Remove(ItemKey, out var value)
            && value is JsonElement structured)
        {
            // An element-backed node: written from the element as it is, never re-parsed with the SDK's limit.
            result["structuredContent"] = JsonObject.Create(structured);
        }

        return next(context, cancellationToken);
    };
}
