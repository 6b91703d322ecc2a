namespace BrummerQueue.Load;

/// <summary>The outcome of one run, written as the final table and as JSON (snake_case).</summary>
internal sealed record LoadReport
{
    public required string Mode { get; init; }

    public required string Url { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required double DurationSeconds { get; init; }

    public int Publishers { get; init; }

    public int Subscribers { get; init; }

    public int Channels { get; init; }

    /// <summary>Target total send rate; 0 for max rate.</summary>
    public int Rate { get; init; }

    public int PayloadBytes { get; init; }

    public long Sent { get; init; }

    public long Acked { get; init; }

    public long SendErrors { get; init; }

    /// <summary>Fixed-rate mode: the longest any publisher's send lagged behind its schedule, in ms (the maximum of <see cref="ScheduleLag"/>, to three significant digits).</summary>
    public double MaxScheduleLagMs { get; init; }

    /// <summary>Fixed-rate mode: how far behind schedule the sends went out, over all publishers.</summary>
    public LatencySummary? ScheduleLag { get; init; }

    public double SentPerSecond { get; init; }

    /// <summary>Deliveries expected: acknowledged sends times subscribers.</summary>
    public long ExpectedDeliveries { get; init; }

    public long Delivered { get; init; }

    public double DeliveredPerSecond { get; init; }

    public long Lost { get; init; }

    public long Duplicates { get; init; }

    public long ServerReportedDropped { get; init; }

    public LatencySummary? PublishToDeliver { get; init; }

    public IReadOnlyList<McpSummary> Mcp { get; init; } = [];

    /// <summary>CPU seconds the server used during the run (both cores count), when its process id is known.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>CPU seconds this load generator used during the run; it shares the machine with the server.</summary>
    public double LoadCpuSeconds { get; init; }

    public long? ServerRssBytes { get; init; }

    public long? ServerPeakRssBytes { get; init; }

    /// <summary>Fill mode: messages the server reports retained (<c>total_messages</c> of <c>queue_stats</c>), when it could be asked.</summary>
    public long? RetainedMessages { get; init; }

    public IReadOnlyList<string> Errors { get; init; } = [];
}
