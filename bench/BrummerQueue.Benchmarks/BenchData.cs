using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>Inputs shared by the benchmarks.</summary>
internal static class BenchData
{
    /// <summary>A small JSON payload like a browser event (46 bytes).</summary>
    public static JsonPayload SmallPayload { get; } = JsonPayload.Parse("""{"user":"ada","action":"click","x":12,"y":340}""");

    /// <summary>The draft every send uses: default type, the small payload, the default TTL.</summary>
    public static MessageDraft SmallDraft { get; } = new(null, SmallPayload);

    /// <summary>Options with the sweeper effectively off, so no background pass runs during a measurement.</summary>
    public static QueueOptions Options(int channelCapacity = 10_000) => new()
    {
        ChannelCapacity = channelCapacity,
        SweepInterval = TimeSpan.FromDays(1),
    };
}
