using HdrHistogram;

namespace BrummerQueue.Load;

/// <summary>The histograms every latency of a run is recorded in: nanoseconds up to one minute, three significant digits.</summary>
internal static class LatencyHistograms
{
    private const long HighestNanoseconds = 60_000_000_000;

    public static LongHistogram Create() => new(HighestNanoseconds, 3);

    public static LongHistogram Merge(IEnumerable<LongHistogram> histograms)
    {
        var merged = Create();
        foreach (var histogram in histograms)
        {
            merged.Add(histogram);
        }

        return merged;
    }
}
