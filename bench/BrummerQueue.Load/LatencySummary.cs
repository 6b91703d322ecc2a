using HdrHistogram;

namespace BrummerQueue.Load;

/// <summary>Percentiles of a latency histogram recorded in nanoseconds, reported in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public static LatencySummary? From(HistogramBase histogram) => histogram.TotalCount == 0
        ? null
        : new LatencySummary(
            histogram.TotalCount,
            Ms(histogram.GetValueAtPercentile(50)),
            Ms(histogram.GetValueAtPercentile(99)),
            Ms(histogram.GetValueAtPercentile(99.9)),
            Ms(histogram.GetMaxValue()));

    private static double Ms(long nanoseconds) => Math.Round(nanoseconds / 1e6, 4);
}
