using System.Diagnostics;
using System.Text.Json;
using HdrHistogram;

namespace BrummerQueue.Load;

/// <summary>Runs one load test against a server on loopback and builds its <see cref="LoadReport"/>. Every phase is bounded in time.</summary>
internal sealed class LoadRunner(LoadSettings settings)
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(30);
    private readonly LoadCounters _counters = new();
    private readonly List<string> _errors = [];

    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken)
    {
        await using var server = settings.StartServer is { } path
            ? await ServerProcess.StartAsync(path, settings.Url, settings.ServerArguments, settings.ServerEnvironment, cancellationToken)
            : ServerProcess.Attach(settings.ServerPid);
        return settings.Mode switch
        {
            "fill" => await FillAsync(server, cancellationToken),
            "soak" => await new SoakRunner(settings).RunAsync(server, cancellationToken),
            _ => await ThroughputAsync(server, cancellationToken),
        };
    }

    private async Task<LoadReport> ThroughputAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var channels = Enumerable.Range(0, settings.Channels).Select(i => $"load.ch.{i}").ToArray();
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(s_connectTimeout);

        var subscribers = Enumerable.Range(0, settings.Subscribers).Select(i => new WebSocketSubscriber(i, settings.Publishers, _counters)).ToArray();
        var subscriberSockets = await Task.WhenAll(subscribers.Select(_ => WebSocketSubscriber.SubscribeAsync(settings.Url, channels, settings.SubscriberBuffer, settings.Batch, connectTimeout.Token)));
        using var pacer = settings.Rate > 0 && settings.Pacing == "thread" ? new Pacer() : null;
        var publishers = Enumerable.Range(0, settings.Publishers)
            .Select(i => new WebSocketPublisher(i, [channels[i % channels.Length]], 0, null, settings, _counters, pacer)).ToArray();
        var publisherSockets = await Task.WhenAll(publishers.Select(_ => FrameSocket.ConnectAsync(settings.Url, connectTimeout.Token, settings.Batch)));
        var mcp = await ConnectMcpAsync(connectTimeout.Token);
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopSubscribers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopProgress = new CancellationTokenSource();
            var cpu = CpuMark.Take(server);
            var start = Stopwatch.GetTimestamp();
            var measureFrom = start + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
            stop.CancelAfter(settings.Duration);
            var progressLine = new ProgressLine(_counters, server, settings.Duration, settings.Series);
            var progress = progressLine.RunAsync(stopProgress.Token);

            var receiving = subscribers.Select((s, i) => s.RunAsync(subscriberSockets[i], measureFrom, stopSubscribers.Token)).ToArray();
            var sending = publishers.Select((p, i) => p.RunAsync(publisherSockets[i], start, stop.Token)).ToList();
            sending.AddRange(mcp.Select(c => c.Caller.RunAsync(measureFrom, stop.Token)));
            await Task.WhenAll(sending);
            var lastSend = publishers.Select(p => p.LastSendTicks).DefaultIfEmpty(0).Max();
            var sendSeconds = lastSend > start ? Stopwatch.GetElapsedTime(start, lastSend).TotalSeconds : Stopwatch.GetElapsedTime(start).TotalSeconds;

            // Wait (bounded) until every subscriber has every acknowledged message, or deliveries stop coming.
            var expectedPerSubscriber = publishers.Sum(p => p.Acked);
            await WaitForDeliveriesAsync(subscribers, expectedPerSubscriber, cancellationToken);
            await stopSubscribers.CancelAsync();
            await Task.WhenAll(receiving);
            var (serverCpu, loadCpu) = cpu.Since(server);
            var memory = server.ReadMemory();
            await stopProgress.CancelAsync();
            await progress;

            var latency = LatencyHistograms.Merge(subscribers.Select(s => s.Latency));
            long lost = 0;
            foreach (var subscriber in subscribers)
            {
                foreach (var publisher in publishers)
                {
                    lost += Math.Max(0, publisher.Acked - subscriber.UniqueFrom(publisher.Index));
                }

                Note($"subscriber {subscriber.Index}", subscriber.FirstError);
            }

            foreach (var publisher in publishers)
            {
                Note($"publisher {publisher.Index}", publisher.FirstError);
            }

            foreach (var (caller, _) in mcp)
            {
                Note($"mcp {caller.Name}", caller.FirstError);
            }

            var delivered = subscribers.Sum(s => s.Delivered);
            var lastDelivery = subscribers.Select(s => s.LastDeliveryTicks).DefaultIfEmpty(0).Max();
            var deliverSeconds = lastDelivery > start ? Stopwatch.GetElapsedTime(start, lastDelivery).TotalSeconds : sendSeconds;
            var scheduleLag = settings.Rate > 0 ? LatencySummary.From(LatencyHistograms.Merge(publishers.Select(p => p.ScheduleLag))) : null;
            return new LoadReport
            {
                Mode = settings.Rate > 0 ? "fixed-rate" : "max-rate",
                Url = settings.Url.ToString(),
                StartedAt = startedAt,
                DurationSeconds = Math.Round(sendSeconds, 3),
                Publishers = settings.Publishers,
                Subscribers = settings.Subscribers,
                Channels = settings.Channels,
                Rate = settings.Rate,
                PayloadBytes = settings.PayloadBytes,
                Sent = publishers.Sum(p => p.Sent),
                Acked = expectedPerSubscriber,
                SendErrors = publishers.Sum(p => p.Errors),
                MaxScheduleLagMs = scheduleLag?.MaxMs ?? 0,
                ScheduleLag = scheduleLag,
                SentPerSecond = Math.Round(expectedPerSubscriber / sendSeconds),
                ExpectedDeliveries = expectedPerSubscriber * settings.Subscribers,
                Delivered = delivered,
                DeliveredPerSecond = Math.Round(delivered / deliverSeconds),
                Lost = lost,
                Duplicates = subscribers.Sum(s => s.Duplicates),
                ServerReportedDropped = subscribers.Sum(s => s.ServerReportedDropped),
                PublishToDeliver = LatencySummary.From(latency),
                Mcp = SummarizeMcp(mcp, sendSeconds),
                ServerCpuSeconds = serverCpu,
                LoadCpuSeconds = loadCpu,
                ServerRssBytes = memory?.Rss,
                ServerPeakRssBytes = memory?.PeakRss,
                DeliveredSeries = [.. progressLine.DeliveredPerSecond],
                Errors = _errors,
            };
        }
        finally
        {
            foreach (var socket in publisherSockets.Concat(subscriberSockets))
            {
                await socket.CloseAsync();
                socket.Dispose();
            }

            foreach (var publisher in publishers)
            {
                publisher.Dispose();
            }

            foreach (var (caller, _) in mcp)
            {
                await caller.DisposeAsync();
            }
        }
    }

    private async Task<LoadReport> FillAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var channels = Enumerable.Range(0, settings.Channels).Select(i => $"load.fill.{i}").ToArray();
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(s_connectTimeout);
        var perPublisher = (settings.FillMessages + settings.Publishers - 1) / settings.Publishers;
        var publishers = Enumerable.Range(0, settings.Publishers)
            .Select(i => new WebSocketPublisher(i, channels, Math.Min(perPublisher, settings.FillMessages - ((long)i * perPublisher)), 0, settings, _counters)).ToArray();
        var sockets = await Task.WhenAll(publishers.Select(_ => FrameSocket.ConnectAsync(settings.Url, connectTimeout.Token, settings.Batch)));
        try
        {
            var before = server.ReadMemory();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopProgress = new CancellationTokenSource();
            stop.CancelAfter(settings.Duration);
            var progress = new ProgressLine(_counters, server, settings.Duration).RunAsync(stopProgress.Token);
            var cpu = CpuMark.Take(server);
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(publishers.Select((p, i) => p.RunAsync(sockets[i], start, stop.Token)));
            var (serverCpu, loadCpu) = cpu.Since(server);
            var seconds = Stopwatch.GetElapsedTime(start, publishers.Max(p => p.LastSendTicks)).TotalSeconds;

            // Let the server settle (its GC and the kernel's accounting) before reading its memory.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var memory = server.ReadMemory();
            await stopProgress.CancelAsync();
            await progress;
            var retained = await ReadRetainedAsync(cancellationToken);
            foreach (var publisher in publishers)
            {
                Note($"publisher {publisher.Index}", publisher.FirstError);
            }

            if (before is { } b)
            {
                Note("server", $"RSS before the fill: {b.Rss / (1024 * 1024)} MB");
            }

            var acked = publishers.Sum(p => p.Acked);
            return new LoadReport
            {
                Mode = "fill",
                Url = settings.Url.ToString(),
                StartedAt = startedAt,
                DurationSeconds = Math.Round(seconds, 3),
                Publishers = settings.Publishers,
                Channels = settings.Channels,
                PayloadBytes = settings.PayloadBytes,
                Sent = publishers.Sum(p => p.Sent),
                Acked = acked,
                SendErrors = publishers.Sum(p => p.Errors),
                SentPerSecond = Math.Round(acked / seconds),
                ServerCpuSeconds = serverCpu,
                LoadCpuSeconds = loadCpu,
                ServerRssBytes = memory?.Rss,
                ServerPeakRssBytes = memory?.PeakRss,
                RetainedMessages = retained,
                Errors = _errors,
            };
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.CloseAsync();
                socket.Dispose();
            }

            foreach (var publisher in publishers)
            {
                publisher.Dispose();
            }
        }
    }

    private async Task<List<(McpCaller Caller, string Transport)>> ConnectMcpAsync(CancellationToken cancellationToken)
    {
        var callers = new List<(McpCaller, string)>();
        for (var i = 0; i < settings.McpHttpClients; i++)
        {
            callers.Add((await McpCaller.ConnectHttpAsync($"http{i}", settings.Url, _counters, cancellationToken), "http"));
        }

        if (settings.McpStdioCommand is { } command)
        {
            callers.Add((await McpCaller.ConnectStdioAsync("stdio0", command, _counters, cancellationToken), "stdio"));
        }

        return callers;
    }

    private static List<McpSummary> SummarizeMcp(List<(McpCaller Caller, string Transport)> callers, double seconds) =>
        [.. callers.GroupBy(c => c.Transport).Select(group =>
        {
            var latency = LatencyHistograms.Merge(group.Select(c => c.Caller.Latency));
            var calls = group.Sum(c => c.Caller.Calls);
            return new McpSummary(group.Key, group.Count(), calls, group.Sum(c => c.Caller.Errors), Math.Round(calls / seconds), LatencySummary.From(latency));
        })];

    private static async Task WaitForDeliveriesAsync(WebSocketSubscriber[] subscribers, long expectedPerSubscriber, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (15 * Stopwatch.Frequency);
        long lastTotal = -1;
        var lastChange = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var total = subscribers.Sum(s => s.Delivered);
            if (subscribers.All(s => s.Delivered >= expectedPerSubscriber))
            {
                break;
            }

            if (total != lastTotal)
            {
                (lastTotal, lastChange) = (total, Stopwatch.GetTimestamp());
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > TimeSpan.FromSeconds(2))
            {
                break;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task<long?> ReadRetainedAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await using var caller = await McpCaller.ConnectHttpAsync("stats", settings.Url, _counters, timeout.Token);
            var stats = await caller.StatsAsync(timeout.Token);
            return stats is { } s && s.TryGetProperty("total_messages", out var total) ? total.GetInt64() : null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Note("stats", $"queue_stats over MCP failed: {e.Message}");
            return null;
        }
    }

    private void Note(string who, string? error)
    {
        if (error is not null)
        {
            _errors.Add($"{who}: {error}");
        }
    }
}
