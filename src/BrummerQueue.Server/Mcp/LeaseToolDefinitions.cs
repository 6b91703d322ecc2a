using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// The <c>queue_ack</c> tool of acknowledged receive (docs/protocol.md "Acknowledged receive"). Terse on purpose: every
/// definition is read by the model on each turn (<c>ToolsListBudgetTests</c>).
/// </summary>
internal static class LeaseToolDefinitions
{
    /// <summary>The definition of <c>queue_ack</c>.</summary>
    public static Tool Ack() => new()
    {
        Name = QueueToolDefinitions.Ack,
        Description = "Mark leased messages (queue_receive ack_timeout) done; removes them.",
        InputSchema = QueueToolDefinitions.Schema("""
            {"type":"object","properties":{
              "channel":{"type":"string"},
              "message_ids":{"type":"array","items":{"type":"string"}}},
             "required":["channel","message_ids"],"additionalProperties":false}
            """),
        OutputSchema = QueueToolDefinitions.Schema("""
            {"type":"object","properties":{"acked":{"type":"integer"},"not_leased":{"type":"array","items":{"type":"string"}}},"required":["acked","not_leased"]}
            """),
        Annotations = new ToolAnnotations { DestructiveHint = true, OpenWorldHint = false },
    };
}
