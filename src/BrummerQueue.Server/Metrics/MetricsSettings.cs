namespace BrummerQueue.Server.Metrics;

/// <summary>
/// Which meter the host creates and exports. The default, <see cref="BrummerMetrics.DefaultMeterName"/>,
/// is what tools like dotnet-counters see; tests that run several hosts in one process give each its
/// own name, because exporters pick meters by name across the whole process.
/// </summary>
internal sealed class MetricsSettings
{
    public string MeterName { get; init; } = BrummerMetrics.DefaultMeterName;
}
