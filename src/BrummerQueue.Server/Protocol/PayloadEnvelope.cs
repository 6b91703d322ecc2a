using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// How deep a request that carries a payload may be: the payload's own limit
/// (<see cref="QueueOptions.MaxPayloadDepth"/>, checked by the engine) plus the levels of the envelope
/// around it. Every face parses its envelope with this bound and no payload limit of its own, so a
/// payload at exactly the limit gets in by every face and one just past it gets the engine's refusal
/// naming <c>payload</c> and <c>max_payload_depth</c>.
/// </summary>
internal static class PayloadEnvelope
{
    /// <summary>
    /// Levels an envelope may put around a payload. The deepest is an MCP tool result,
    /// <c>{ result: { structuredContent: { messages: [ { payload } ] } } }</c> (5); a WebSocket frame
    /// <c>{ data: { payload } }</c> has 2, an HTTP body <c>{ payload }</c> 1, a JSON-RPC
    /// <c>tools/call</c> <c>{ params: { arguments: { payload } } }</c> 3. The rest is headroom, so a
    /// payload a few levels past the limit is still refused by the engine's rule, not by a parser.
    /// </summary>
    public const int Levels = 8;

    /// <summary>
    /// The nesting the MCP SDK (2.4.0) reads and its client writes for a whole JSON-RPC message (System.Text.Json's
    /// default, which its serializer options keep). One fact, used by the stdio line guard and by attach mode.
    /// </summary>
    public const int McpSdkMaxDepth = 64;

    /// <summary>
    /// Parser options for a reply or result that holds stored payloads when the queue's own limit is not at
    /// hand (a CLI reading any server's replies, a tool result): as deep as the largest limit allows.
    /// </summary>
    public static readonly JsonDocumentOptions AnyReplyOptions = new() { MaxDepth = AnyLimitDepth };

    /// <summary>The depth of a request or reply carrying a payload at the largest limit any queue may set (<see cref="QueueOptions.MaxPayloadDepthLimit"/>).</summary>
    public const int AnyLimitDepth = QueueOptions.MaxPayloadDepthLimit + Levels;

    /// <summary>The depth a request or reply carrying a payload may have.</summary>
    public static int MaxDepth(QueueOptions options) => options.MaxPayloadDepth + Levels;

    /// <summary>Parser options of an envelope that carries a payload.</summary>
    public static JsonDocumentOptions DocumentOptions(QueueOptions options) => new() { MaxDepth = MaxDepth(options) };
}
