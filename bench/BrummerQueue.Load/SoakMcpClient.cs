using System.Text.Json;
using ModelContextProtocol.Client;

namespace BrummerQueue.Load;

/// <summary>
/// One soak MCP client over Streamable HTTP (the official SDK's client): a session of a random number
/// of calls — <c>queue_send</c> with a unique <c>uid</c> and consuming <c>queue_receive</c> on the shared
/// work channels — then it disconnects (ends its session) and connects again, until the run stops.
/// A call is never cancelled by the stop: the run waits for the call in flight, so no reply is lost.
/// </summary>
internal sealed class SoakMcpClient(int index, IReadOnlyList<string> channels, SoakLedger ledger, LoadSettings settings)
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(30);
    private readonly Random _random = new(HashCode.Combine(index, settings.SoakSeed, "mcp"));

    public async Task RunAsync(CancellationToken stop)
    {
        var session = 0;
        while (!stop.IsCancellationRequested)
        {
            session++;
            try
            {
                await SessionAsync(session, stop);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref ledger.McpErrors);
                ledger.Note($"mcp {index}: {e.GetType().Name}: {e.Message}");
            }

            Interlocked.Increment(ref ledger.Reconnects);
        }
    }

    private async Task SessionAsync(int session, CancellationToken stop)
    {
        using var connect = new CancellationTokenSource(s_callTimeout);
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(settings.Url, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            Name = $"soak-mcp-{index}",
        });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: connect.Token);
        var calls = _random.Next(20, 200);
        for (var n = 1; n <= calls && !stop.IsCancellationRequested; n++)
        {
            var channel = channels[_random.Next(channels.Count)];
            using var timeout = new CancellationTokenSource(s_callTimeout);
            Interlocked.Increment(ref ledger.McpCalls);
            if (_random.Next(10) < 6)
            {
                var uid = $"m{index}.{session}.{n}";
                ledger.Sending(uid);
                var result = await client.CallToolAsync(
                    "queue_send",
                    new Dictionary<string, object?> { ["channel"] = channel, ["type"] = "soak", ["ttl"] = 0, ["payload"] = new Dictionary<string, string> { ["uid"] = uid } },
                    cancellationToken: timeout.Token);
                ledger.Settle(uid, result.IsError == true ? SoakLedger.Refused : SoakLedger.Acked);
                if (result.IsError == true)
                {
                    ledger.Note($"mcp {index}: queue_send refused: {JsonSerializer.Serialize(result.Content)}");
                }
            }
            else
            {
                var result = await client.CallToolAsync(
                    "queue_receive",
                    new Dictionary<string, object?> { ["channel"] = channel, ["limit"] = 20 },
                    cancellationToken: timeout.Token);
                if (result.IsError == true || result.StructuredContent is not { } structured)
                {
                    Interlocked.Increment(ref ledger.FailedReceives);
                    ledger.Note($"mcp {index}: queue_receive failed: {JsonSerializer.Serialize(result.Content)}");
                    continue;
                }

                foreach (var message in JsonSerializer.SerializeToElement(structured).GetProperty("messages").EnumerateArray())
                {
                    ledger.Consume(message.GetProperty("payload").GetProperty("uid").GetString()!);
                }
            }

            try
            {
                await Task.Delay(_random.Next(5, 40), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
