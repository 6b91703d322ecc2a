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

    /// <summary>Throughput mode: messages delivered in each whole second of the run (second 1 first), as the status line shows them.</summary>
    public IReadOnlyList<long> DeliveredSeries { get; init; } = [];

    public IReadOnlyList<McpSummary> Mcp { get; init; } = [];

    /// <summary>CPU seconds the server used during the run (both cores count), when its process id is known.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>CPU seconds this load generator used during the run; it shares the machine with the server.</summary>
    public double LoadCpuSeconds { get; init; }

    public long? ServerRssBytes { get; init; }

    public long? ServerPeakRssBytes { get; init; }

    /// <summary>Fill mode: messages the server reports retained (<c>total_messages</c> of <c>queue_stats</c>), when it could be asked.</summary>
    public long? RetainedMessages { get; init; }

    /// <summary>Soak: WebSocket clients (producers, consumers, subscribers) and MCP clients over HTTP.</summary>
    public int WebSocketClients { get; init; }

    public int McpClients { get; init; }

    /// <summary>Soak: sends whose connection ended before their reply (stored or not); <see cref="UnconfirmedStored"/> of them were consumed.</summary>
    public long Unconfirmed { get; init; }

    public long UnconfirmedStored { get; init; }

    /// <summary>Soak: distinct messages consumed, including <see cref="DrainedAtEnd"/> taken from the backlog after the run.</summary>
    public long Consumed { get; init; }

    public long DrainedAtEnd { get; init; }

    /// <summary>Soak: consumed messages that were never sent or were refused (must be 0).</summary>
    public long Unexpected { get; init; }

    public long Reconnects { get; init; }

    /// <summary>Soak: pushes that arrived out of order or twice on one subscription (must be 0).</summary>
    public long PushDuplicates { get; init; }

    /// <summary>Soak: receives that got no reply or failed (their messages may be lost).</summary>
    public long FailedReceives { get; init; }

    /// <summary>Soak: <c>messages_dropped</c> of <c>queue_stats</c> (evicted from full backlogs).</summary>
    public long? BacklogDropped { get; init; }

    public long? ServerRssStartBytes { get; init; }

    /// <summary>Soak: the server's RSS once a minute.</summary>
    public IReadOnlyList<long> RssPerMinuteBytes { get; init; } = [];

    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>No message lost or duplicated, no send refused (soak: nothing unexpected consumed, no push twice).</summary>
    public bool Passed => Lost == 0 && Duplicates == 0 && SendErrors == 0 && Unexpected == 0 && PushDuplicates == 0;
}
