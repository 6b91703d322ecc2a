using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>Acknowledged receive over MCP (docs/protocol.md "Acknowledged receive"): leases belong to the session that took them.</summary>
internal sealed partial class QueueTools
{
    private static double? AckTimeout(ToolArguments args) =>
        args.Number("ack_timeout", () => QueueException.Invalid("ack_timeout", LeaseRules.AckTimeoutRule));

    private CallToolResult Ack(ToolArguments args, McpSessionState? session)
    {
        var channel = args.String("channel", "1-128 characters from A-Z a-z 0-9 . _ - : /")
            ?? throw QueueException.Invalid("channel", "channel is required and must be 1-128 characters from A-Z a-z 0-9 . _ - : /");
        var ids = LeaseJson.MessageIds(args.TryGet("message_ids", out var element) ? element : null);
        var result = _queue.Ack(channel, ids, session?.Owner);
        return ToolResults.Json(w => LeaseJson.WriteAckResult(w, result));
    }
}
