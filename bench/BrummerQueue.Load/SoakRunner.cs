using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace BrummerQueue.Load;

/// <summary>
/// The soak mode: <see cref="LoadSettings.WebSocketClients"/> WebSocket clients (40% producers, 40%
/// competing consumers, 20% subscribers) and <see cref="LoadSettings.McpHttpClients"/> MCP clients over
/// HTTP work on shared channels for the duration, each disconnecting and reconnecting at random. Then
/// everything left is drained, and every message acknowledged must have been consumed exactly once
/// (0 lost, 0 duplicated). The server's RSS is read at the start, every minute, and at the end. Every
/// phase is bounded in time.
/// </summary>
internal sealed class SoakRunner(LoadSettings settings)
{
    private static readonly TimeSpan s_stopBound = TimeSpan.FromSeconds(60);

    public async Task<LoadReport> RunAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var run = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant();
        var channels = Enumerable.Range(0, Math.Max(4, settings.Channels)).Select(i => $"soak.{run}.{i}").ToArray();
        var ledger = new SoakLedger();
        var startMemory = server.ReadMemory();
        var producers = settings.SoakProducers;
        var consumers = settings.WebSocketClients * 2 / 5;
        var clients = Enumerable.Range(0, settings.WebSocketClients)
            .Select(i => new SoakWebSocketClient(i, i < producers ? SoakRole.Producer : i < producers + consumers ? SoakRole.Consumer : SoakRole.Subscriber, channels, ledger, settings))
            .ToArray();
        var mcp = Enumerable.Range(0, settings.McpHttpClients).Select(i => new SoakMcpClient(i, channels, ledger, settings)).ToArray();

        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(settings.Duration);
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var rssSamples = new List<long>();
        var progress = ProgressAsync(server, ledger, rssSamples, clock, stopProgress.Token);
        var work = Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(stop.Token), CancellationToken.None))
            .Concat(mcp.Select(c => Task.Run(() => c.RunAsync(stop.Token), CancellationToken.None))));
        await Task.WhenAny(work, Task.Delay(settings.Duration + s_stopBound, cancellationToken));
        var errors = ledger.Notes.ToList();
        if (!work.IsCompleted)
        {
            errors.Add($"clients still running {s_stopBound.TotalSeconds} s after the stop");
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var drained = await DrainAsync(channels, ledger, errors, cancellationToken);
        await stopProgress.CancelAsync();
        await progress;
        var stats = await ReadStatsAsync(errors, cancellationToken);

        // Let the server settle (its GC and the kernel's accounting) before reading its memory.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var endMemory = server.ReadMemory();

        var acked = ledger.Sent.Where(s => s.Value == SoakLedger.Acked).Select(s => s.Key).ToList();
        var lost = acked.Where(uid => !ledger.Consumed.ContainsKey(uid)).ToList();
        var duplicated = ledger.Consumed.Where(c => c.Value > 1).ToList();
        var unexpected = ledger.Consumed.Keys.Where(uid => !ledger.Sent.TryGetValue(uid, out var state) || state == SoakLedger.Refused).ToList();
        var unconfirmed = ledger.Sent.Where(s => s.Value == SoakLedger.Unconfirmed).Select(s => s.Key).ToList();
        foreach (var uid in lost.Take(5))
        {
            errors.Add($"lost: {uid}");
        }

        foreach (var (uid, times) in duplicated.Take(5))
        {
            errors.Add($"consumed {times} times: {uid}");
        }

        foreach (var uid in unexpected.Take(5))
        {
            errors.Add($"consumed but never sent or refused: {uid}");
        }

        return new LoadReport
        {
            Mode = "soak",
            Url = settings.Url.ToString(),
            StartedAt = startedAt,
            DurationSeconds = Math.Round(seconds, 3),
            Channels = channels.Length,
            Rate = settings.Rate,
            PayloadBytes = settings.PayloadBytes,
            WebSocketClients = settings.WebSocketClients,
            McpClients = settings.McpHttpClients,
            Sent = ledger.Sent.Count,
            Acked = acked.Count,
            SendErrors = ledger.Sent.Count(s => s.Value == SoakLedger.Refused),
            Unconfirmed = unconfirmed.Count,
            UnconfirmedStored = unconfirmed.Count(ledger.Consumed.ContainsKey),
            Consumed = ledger.Consumed.Count,
            DrainedAtEnd = drained,
            Lost = lost.Count,
            Duplicates = duplicated.Count,
            Unexpected = unexpected.Count,
            Reconnects = Interlocked.Read(ref ledger.Reconnects),
            Delivered = Interlocked.Read(ref ledger.Pushes),
            PushDuplicates = Interlocked.Read(ref ledger.PushDuplicates),
            ServerReportedDropped = Interlocked.Read(ref ledger.PushesDroppedByServer),
            FailedReceives = Interlocked.Read(ref ledger.FailedReceives),
            Mcp = [new McpSummary("http", settings.McpHttpClients, Interlocked.Read(ref ledger.McpCalls), Interlocked.Read(ref ledger.McpErrors), Math.Round(Interlocked.Read(ref ledger.McpCalls) / seconds), null)],
            RetainedMessages = stats?.TryGetProperty("total_messages", out var total) == true ? total.GetInt64() : null,
            BacklogDropped = stats?.TryGetProperty("messages_dropped", out var dropped) == true ? dropped.GetInt64() : null,
            ServerRssStartBytes = startMemory?.Rss,
            ServerRssBytes = endMemory?.Rss,
            ServerPeakRssBytes = endMemory?.PeakRss,
            RssPerMinuteBytes = rssSamples,
            Errors = errors,
        };
    }

    /// <summary>Consumes everything left on the work channels (bounded: 1000 receives of 1000 per channel, 60 s).</summary>
    private async Task<long> DrainAsync(string[] channels, SoakLedger ledger, List<string> errors, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        long drained = 0;
        try
        {
            using var socket = await FrameSocket.ConnectAsync(settings.Url, timeout.Token, settings.Batch);
            foreach (var channel in channels)
            {
                for (var i = 0; i < 1000; i++)
                {
                    await socket.SendAsync(
                        w =>
                        {
                            w.WriteStartObject();
                            w.WriteString("type"u8, "queue_receive"u8);
                            w.WriteString("id"u8, "drain"u8);
                            w.WriteStartObject("data"u8);
                            w.WriteString("channel"u8, channel);
                            w.WriteNumber("limit"u8, 1000);
                            w.WriteEndObject();
                            w.WriteEndObject();
                        },
                        timeout.Token);
                    var frame = await socket.ReceiveAsync(timeout.Token);
                    using var document = JsonDocument.Parse(frame);
                    var messages = document.RootElement.GetProperty("data").GetProperty("messages");
                    if (messages.GetArrayLength() == 0)
                    {
                        break;
                    }

                    foreach (var message in messages.EnumerateArray())
                    {
                        ledger.Consume(message.GetProperty("payload").GetProperty("uid").GetString()!);
                        drained++;
                    }
                }
            }

            await socket.CloseAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            errors.Add($"drain failed: {e.Message}");
        }

        return drained;
    }

    private async Task<JsonElement?> ReadStatsAsync(List<string> errors, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await using var caller = await McpCaller.ConnectHttpAsync("stats", settings.Url, new LoadCounters(), timeout.Token);
            return await caller.StatsAsync(timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            errors.Add($"queue_stats over MCP failed: {e.Message}");
            return null;
        }
    }

    /// <summary>A status line on stderr every 10 s; the server's RSS every minute.</summary>
    private static async Task ProgressAsync(ServerProcess server, SoakLedger ledger, List<long> rssSamples, Stopwatch clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var memory = server.ReadMemory();
                if (++ticks % 6 == 0 && memory is { } sample)
                {
                    rssSamples.Add(sample.Rss);
                }

                var acked = ledger.Sent.Count(s => s.Value == SoakLedger.Acked);
                var rss = memory is { } m ? $"  rss {m.Rss / (1024 * 1024)} MB (peak {m.PeakRss / (1024 * 1024)} MB)" : string.Empty;
                await Console.Error.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{clock.Elapsed.TotalSeconds,5:F0} s  acked {acked,9:N0}  consumed {ledger.Consumed.Count,9:N0}  pushes {Interlocked.Read(ref ledger.Pushes),10:N0}  reconnects {Interlocked.Read(ref ledger.Reconnects),6:N0}  mcp calls {Interlocked.Read(ref ledger.McpCalls),7:N0}{rss}"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
