using System.Diagnostics;
using System.Text.Json;
using HdrHistogram;
using ModelContextProtocol.Client;

namespace BrummerQueue.Load;

/// <summary>
/// One MCP client (the official SDK's <see cref="McpClient"/>) calling <c>queue_send</c> then
/// <c>queue_receive</c> on its own channel, one call at a time, as an assistant does. Each call's
/// round trip goes into an HdrHistogram in nanoseconds (after the warm-up).
/// </summary>
internal sealed class McpCaller(string name, LoadCounters counters) : IAsyncDisposable
{
    private McpClient? _client;

    public string Name => name;

    public LongHistogram Latency { get; } = LatencyHistograms.Create();

    public long Calls { get; private set; }

    public long Errors { get; private set; }

    public string? FirstError { get; private set; }

    public static async Task<McpCaller> ConnectHttpAsync(string name, Uri url, LoadCounters counters, CancellationToken cancellationToken)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(url, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            Name = name,
        });
        var caller = new McpCaller(name, counters);
        caller._client = await McpClient.CreateAsync(transport, cancellationToken: cancellationToken);
        return caller;
    }

    public static async Task<McpCaller> ConnectStdioAsync(string name, string commandLine, LoadCounters counters, CancellationToken cancellationToken)
    {
        var parts = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = parts[0],
            Arguments = parts[1..],
            Name = name,
        });
        var caller = new McpCaller(name, counters);
        caller._client = await McpClient.CreateAsync(transport, cancellationToken: cancellationToken);
        return caller;
    }

    /// <summary>Calls until <paramref name="stop"/>; each iteration is one send and one receive.</summary>
    public async Task RunAsync(long measureFromTicks, CancellationToken stop)
    {
        var client = _client ?? throw new InvalidOperationException("not connected");
        var channel = $"load.mcp.{name}";
        using var payload = JsonDocument.Parse("""{"from":"brummerq-load","note":"mcp round trip"}""");
        var sendArgs = new Dictionary<string, object?> { ["channel"] = channel, ["payload"] = payload.RootElement.Clone() };
        var receiveArgs = new Dictionary<string, object?> { ["channel"] = channel, ["limit"] = 1 };
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await CallAsync(client, "queue_send", sendArgs, measureFromTicks, stop);
                await CallAsync(client, "queue_receive", receiveArgs, measureFromTicks, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Calls <c>queue_stats</c> once and returns its structured result, or null.</summary>
    public async Task<JsonElement?> StatsAsync(CancellationToken cancellationToken)
    {
        var client = _client ?? throw new InvalidOperationException("not connected");
        var result = await client.CallToolAsync("queue_stats", new Dictionary<string, object?>(), cancellationToken: cancellationToken);
        return result.StructuredContent is { } structured ? JsonSerializer.SerializeToElement(structured) : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }

    private async Task CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments, long measureFromTicks, CancellationToken stop)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await client.CallToolAsync(tool, arguments, cancellationToken: stop);
            if (result.IsError == true)
            {
                Errors++;
                Interlocked.Increment(ref counters.McpErrors);
                FirstError ??= $"{tool}: {JsonSerializer.Serialize(result.Content)}";
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Errors++;
            Interlocked.Increment(ref counters.McpErrors);
            FirstError ??= $"{tool}: {e.Message}";
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        Calls++;
        Interlocked.Increment(ref counters.McpCalls);
        if (start >= measureFromTicks)
        {
            Latency.RecordValue((long)elapsed.TotalNanoseconds);
        }
    }
}
