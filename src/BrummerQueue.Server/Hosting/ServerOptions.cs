namespace BrummerQueue.Server.Hosting;

/// <summary>
/// Settings of the HTTP host. Bound from the configuration section <c>Brummerq</c>
/// (appsettings.json), <c>BRUMMERQ_*</c> environment variables and command-line flags.
/// Queue limits are <see cref="Core.QueueOptions"/>, section <c>Brummerq:Queue</c>.
/// </summary>
public sealed record ServerOptions
{
    public const string SectionName = "Brummerq";

    /// <summary>Address to listen on; 127.0.0.1, ::1 and localhost are loopback only (only this machine can connect). Default 127.0.0.1.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port. Default 8080.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>
    /// When set, MCP (/mcp), the WebSocket (/__brummer_ws__), the HTTP API (/api/...), /metrics and so the dashboard's
    /// data (the page reads the API and the WebSocket; open it once as /?token=TOKEN) need this token, as
    /// <c>Authorization: Bearer TOKEN</c>; the WebSocket and the API also take <c>?token=TOKEN</c>. Open without it:
    /// /healthz, the dashboard's page and files, /__brummer_ws__/client.js. Never logged. Default none.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Allows serving on a non-loopback Host without a Token (anyone on the network may then use the queue). Default false.</summary>
    public bool InsecureNoToken { get; init; }

    /// <summary>
    /// Browser origins allowed besides the server itself, localhost, 127.0.0.1 and [::1] (any port);
    /// <c>null</c> allows pages opened from files and sandboxed frames; <c>*</c> allows any (unsafe). Default none.
    /// </summary>
    public string[] AllowedOrigins { get; init; } = [];

    /// <summary>
    /// Host names accepted in the <c>Host</c> header besides <c>localhost</c>, IP addresses and <see cref="Host"/>
    /// (DNS-rebinding protection); <c>*</c> accepts any (behind a reverse proxy that checks names). Default none.
    /// </summary>
    public string[] AllowedHostNames { get; init; } = [];

    /// <summary>Most WebSocket connections at once; one more gets too_many_connections and close 1013. Default 1,000.</summary>
    public int MaxConnections { get; init; } = 1000;

    /// <summary>Largest WebSocket frame (message) in bytes; larger closes the socket with 1009. Default 1 MiB + 4 KiB envelope.</summary>
    public int MaxFrameBytes { get; init; } = (1 << 20) + 4096;

    /// <summary>Frames a WebSocket may send per second before it is closed with 1008. Default 1,000.</summary>
    public int MaxFramesPerSecond { get; init; } = 1000;

    /// <summary>Pushes queued for one WebSocket before its subscriptions wait (back-pressure: their own buffers fill, and drop only when full); also the replies queued before the server stops reading the socket. Default 1,000.</summary>
    public int SocketSendQueue { get; init; } = 1000;

    /// <summary>Seconds between WebSocket keep-alive pings; 0 sends none. Default 30.</summary>
    public int KeepAliveSeconds { get; init; } = 30;

    /// <summary>Seconds without any frame from a WebSocket client that has no subscription and no waiting receive before it is closed; 0 never closes. Default 300.</summary>
    public int IdleTimeoutSeconds { get; init; } = 300;

    /// <summary>
    /// Seconds an HTTP client may take to send a request's headers before the connection is closed
    /// (a client trickling its headers, "slowloris"). Default 10.
    /// </summary>
    public int RequestHeadersTimeoutSeconds { get; init; } = 10;

    /// <summary>
    /// Least bytes per second at which an HTTP client must send a request body and read a response, after a
    /// 5-second grace; slower connections are closed. WebSockets are not measured, nor long polls and SSE
    /// streams while they have nothing to send. 0 turns the check off. Default 240.
    /// </summary>
    public int MinDataRateBytesPerSecond { get; init; } = 240;

    /// <summary>
    /// Where the queue is kept: <c>memory</c> (this process only) or <c>redis</c> (in the Redis named by <see cref="Redis"/>, shared by
    /// every node given the same Redis: docs/scale-out.md). Default memory.
    /// </summary>
    public string Store { get; init; } = StoreKinds.Memory;

    /// <summary>Whether <see cref="Store"/> names the Redis store (in any letter case, as <c>--store Redis</c>).</summary>
    internal bool UsesRedis => string.Equals(Store, StoreKinds.Redis, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The StackExchange.Redis configuration string of the Redis store, e.g. <c>localhost:6379</c> or
    /// <c>redis1:6379,password=secret,ssl=true</c>; needed with Store redis. Default none.
    /// </summary>
    public string? Redis { get; init; }

    /// <summary>
    /// Seconds the server waits at shutdown for requests and sockets to finish before it drops them.
    /// Waiting receives end at once with an empty result and WebSockets get close 1001. Default 3.
    /// </summary>
    public int ShutdownTimeoutSeconds { get; init; } = 3;
}
