namespace BrummerQueue.Load;

/// <summary>What one load run does; parsed from the command line by <see cref="LoadCommand"/>.</summary>
internal sealed record LoadSettings
{
    public required Uri Url { get; init; }

    /// <summary><c>throughput</c> (publishers, subscribers, MCP callers for a duration), <c>fill</c> (retain many messages, report RSS) or <c>soak</c> (<see cref="SoakRunner"/>).</summary>
    public string Mode { get; init; } = "throughput";

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages sent in the first part of the run count for loss but not for latency (JIT and connection warm-up).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public int Publishers { get; init; } = 10;

    public int Subscribers { get; init; } = 10;

    /// <summary>Channels the publishers spread over (publisher i sends to channel i mod C); every subscriber subscribes to all of them.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Total messages per second over all publishers; 0 means as fast as the acknowledgement window allows.</summary>
    public int Rate { get; init; }

    /// <summary>Fixed-rate pacing: "thread" (a dedicated thread sleeping about 1 ms at a time, see <see cref="Pacer"/>) or "delay" (<see cref="Task.Delay(TimeSpan)"/> per publisher).</summary>
    public string Pacing { get; init; } = "thread";

    /// <summary>Sends a publisher may have awaiting their acknowledgement.</summary>
    public int Window { get; init; } = 64;

    /// <summary>Approximate size of each payload in bytes.</summary>
    public int PayloadBytes { get; init; } = 100;

    public int SubscriberBuffer { get; init; } = 10_000;

    /// <summary>Ask for batched server frames (<c>?batch=1</c>); every WebSocket of the run.</summary>
    public bool Batch { get; init; } = true;

    /// <summary>Print each second's figures on a line of its own (<c>--series</c>) and the first 5 s against the rest after the run.</summary>
    public bool Series { get; init; }

    public int McpHttpClients { get; init; }

    /// <summary>Command line that starts <c>brummerq mcp</c> for one stdio MCP client, or null.</summary>
    public string? McpStdioCommand { get; init; }

    public int? ServerPid { get; init; }

    /// <summary>Path of the brummerq executable or dll to start (and stop) for the run, or null when a server already runs.</summary>
    public string? StartServer { get; init; }

    /// <summary>Extra command-line arguments for the started server's <c>serve</c>, e.g. <c>--max-frames-per-second=1000000</c>.</summary>
    public IReadOnlyList<string> ServerArguments { get; init; } = [];

    /// <summary><c>KEY=VALUE</c> environment variables for the started server.</summary>
    public IReadOnlyList<string> ServerEnvironment { get; init; } = [];

    public int FillMessages { get; init; } = 1_000_000;

    /// <summary>Soak: WebSocket clients; 40% produce, 40% consume, 20% subscribe.</summary>
    public int WebSocketClients { get; init; } = 100;

    /// <summary>Soak: producers among <see cref="WebSocketClients"/>.</summary>
    public int SoakProducers => WebSocketClients * 2 / 5;

    /// <summary>Soak: a client stays connected between 1 s and this long before it disconnects and reconnects.</summary>
    public TimeSpan SoakMaxLifetime { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Soak: a third of the consumers' disconnects start the close handshake while a blocking receive
    /// waits (the server must end it taking nothing, or deliver its reply before its close frame).
    /// </summary>
    public bool SoakInFlightCloses { get; init; } = true;

    /// <summary>Soak: seed of the clients' random choices.</summary>
    public int SoakSeed { get; init; } = 1;

    public string JsonPath { get; init; } = "load-results.json";

    /// <summary>Upper bound of the wait for outstanding acknowledgements and deliveries after the sending stops.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
