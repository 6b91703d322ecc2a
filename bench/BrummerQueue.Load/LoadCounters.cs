namespace BrummerQueue.Load;

/// <summary>Running totals for the progress line. Every field is changed with <see cref="Interlocked"/> and read with <see cref="Volatile"/>.</summary>
internal sealed class LoadCounters
{
    public long Sent;
    public long Acked;
    public long Errors;
    public long Delivered;
    public long McpCalls;
    public long McpErrors;
}
