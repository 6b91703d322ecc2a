namespace BrummerQueue.Load;

/// <summary>Tool-call figures of the MCP clients of one transport (<c>http</c> or <c>stdio</c>).</summary>
internal sealed record McpSummary(string Transport, int Clients, long Calls, long Errors, double CallsPerSecond, LatencySummary? Latency);
