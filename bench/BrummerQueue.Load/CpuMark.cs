using System.Diagnostics;

namespace BrummerQueue.Load;

/// <summary>CPU time of the server and of this process at one moment, to tell how a run's CPU was split.</summary>
internal readonly record struct CpuMark(TimeSpan? Server, TimeSpan Load)
{
    public static CpuMark Take(ServerProcess server)
    {
        using var self = Process.GetCurrentProcess();
        return new CpuMark(server.ReadCpuTime(), self.TotalProcessorTime);
    }

    /// <summary>CPU seconds used since this mark: (server, load generator).</summary>
    public (double? Server, double Load) Since(ServerProcess server)
    {
        var now = Take(server);
        return (
            now.Server is { } s && Server is { } s0 ? Math.Round((s - s0).TotalSeconds, 2) : null,
            Math.Round((now.Load - Load).TotalSeconds, 2));
    }
}
