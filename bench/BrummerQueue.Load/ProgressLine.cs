using System.Diagnostics;

namespace BrummerQueue.Load;

/// <summary>
/// Rewrites one status line on stderr every second: elapsed time, totals and rates of the last second, server memory.
/// With <c>series</c> every second gets its own line instead (<c>--series</c>), so the per-second figures stay readable.
/// </summary>
internal sealed class ProgressLine(LoadCounters counters, ServerProcess server, TimeSpan duration, bool series = false)
{
    private readonly List<long> _delivered = [];

    /// <summary>Messages delivered in each whole second of the run, in order (the figures the status line shows).</summary>
    public IReadOnlyList<long> DeliveredPerSecond => _delivered;

    public async Task RunAsync(CancellationToken stop)
    {
        var start = Stopwatch.GetTimestamp();
        long lastSent = 0, lastDelivered = 0, lastCalls = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var sent = Volatile.Read(ref counters.Acked);
                var delivered = Volatile.Read(ref counters.Delivered);
                var calls = Volatile.Read(ref counters.McpCalls);
                var memory = server.ReadMemory();
                var rss = memory is { } m ? $"  rss {m.Rss / (1024 * 1024)} MB" : string.Empty;
                _delivered.Add(delivered - lastDelivered);
                await Console.Error.WriteAsync(
                    $"{(series ? string.Empty : "\r")}{Stopwatch.GetElapsedTime(start).TotalSeconds,5:F0}/{duration.TotalSeconds:F0} s  acked {sent,11:N0} ({sent - lastSent,8:N0}/s)  delivered {delivered,12:N0} ({delivered - lastDelivered,9:N0}/s)  mcp calls {calls,8:N0} ({calls - lastCalls,6:N0}/s)  errors {Volatile.Read(ref counters.Errors) + Volatile.Read(ref counters.McpErrors)}{rss}   {(series ? "\n" : string.Empty)}");
                (lastSent, lastDelivered, lastCalls) = (sent, delivered, calls);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Console.Error.WriteLineAsync();
    }
}
