using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace BrummerQueue.Load;

/// <summary>The <c>brummerq-load</c> command line: parses the settings, runs, prints the table and writes the JSON.</summary>
internal static class LoadCommand
{
    public static RootCommand Create()
    {
        var url = new Option<string>("--url") { Description = "Server base URL; loopback only", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var mode = new Option<string>("--mode") { Description = "throughput (publishers, subscribers, MCP clients), fill (retain --fill-messages, report RSS) or soak (--ws-clients and --mcp-http clients with random reconnects; every message consumed exactly once)", DefaultValueFactory = _ => "throughput" };
        mode.AcceptOnlyFromAmong("throughput", "fill", "soak");
        var duration = new Option<double>("--duration") { Description = "Seconds of sending (fill: upper bound; soak: default 600); the run then drains and stops by itself", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds at the start whose messages count for loss but not for latency", DefaultValueFactory = _ => 1 };
        var publishers = new Option<int>("--publishers") { Description = "WebSocket publishers", DefaultValueFactory = _ => 10 };
        var subscribers = new Option<int>("--subscribers") { Description = "WebSocket subscribers, each subscribed to every channel", DefaultValueFactory = _ => 10 };
        var channels = new Option<int>("--channels") { Description = "Channels (publisher i sends to channel i mod C); fill spreads over them", DefaultValueFactory = _ => 1 };
        var rate = new Option<int>("--rate") { Description = "Total messages/s over all publishers; 0 = max rate (bounded by --window); soak: 0 = 1000", DefaultValueFactory = _ => 0 };
        var pacing = new Option<string>("--pacing") { Description = "Fixed-rate pacing: thread (one thread sleeping ~1 ms at a time wakes the publishers) or delay (Task.Delay per publisher, ~2 ms late here)", DefaultValueFactory = _ => "thread" };
        pacing.AcceptOnlyFromAmong("thread", "delay");
        var window = new Option<int>("--window") { Description = "Unacknowledged sends per publisher", DefaultValueFactory = _ => 64 };
        var payloadBytes = new Option<int>("--payload-bytes") { Description = "Payload size in bytes (at least 60)", DefaultValueFactory = _ => 100 };
        var batch = new Option<bool>("--batch") { Description = "Ask for batched server frames (?batch=1: one JSON array per frame, docs/protocol.md); false: one message per frame", DefaultValueFactory = _ => true };
        var series = new Option<bool>("--series") { Description = "Throughput mode: print each second's figures on a line of its own, and after the run the delivered rate of seconds 1-5 against that of the seconds after them (warm start)" };
        var buffer = new Option<int>("--subscriber-buffer") { Description = "buffer_size of each subscription", DefaultValueFactory = _ => 10_000 };
        var mcpHttp = new Option<int>("--mcp-http") { Description = "MCP clients over Streamable HTTP (queue_send then queue_receive, in a loop); soak: default 4", DefaultValueFactory = _ => 0 };
        var wsClients = new Option<int>("--ws-clients") { Description = "Soak: WebSocket clients (40% producers, 40% competing consumers, 20% subscribers)", DefaultValueFactory = _ => 100 };
        var maxLifetime = new Option<double>("--max-lifetime") { Description = "Soak: seconds a client stays connected at most (between 1 and this) before it disconnects and reconnects", DefaultValueFactory = _ => 20 };
        var inFlightCloses = new Option<bool>("--in-flight-closes") { Description = "Soak: a third of the consumers' disconnects close the socket while a blocking receive waits (false: they wait for its reply first)", DefaultValueFactory = _ => true };
        var seed = new Option<int>("--seed") { Description = "Soak: seed of the clients' random choices", DefaultValueFactory = _ => 1 };
        var mcpStdio = new Option<string?>("--mcp-stdio") { Description = "Command line that starts 'brummerq mcp' for one MCP client over stdio, e.g. \"dotnet path/brummerq.dll mcp --port 18081\"" };
        var pid = new Option<int?>("--server-pid") { Description = "Process id of the running server, for its RSS" };
        var startServer = new Option<string?>("--start-server") { Description = "Path of brummerq (executable or .dll) to start with 'serve' on the URL's port, and stop afterwards" };
        var serverArg = new Option<string[]>("--server-arg") { Description = "Argument for --start-server's 'serve' (repeatable), e.g. --server-arg=--max-frames-per-second=1000000" };
        var serverEnv = new Option<string[]>("--server-env") { Description = "KEY=VALUE environment for --start-server (repeatable), e.g. BRUMMERQ_CHANNEL_CAPACITY=20000" };
        var fillMessages = new Option<int>("--fill-messages") { Description = "Fill mode: messages to retain (ttl 0)", DefaultValueFactory = _ => 1_000_000 };
        var json = new Option<string>("--json") { Description = "Where to write the JSON report", DefaultValueFactory = _ => "load-results.json" };

        var root = new RootCommand("brummerq-load: load generator for a brummerq server on loopback (WebSocket publishers and subscribers, MCP clients over HTTP and stdio).")
        {
            url, mode, duration, warmup, publishers, subscribers, channels, rate, pacing, window, payloadBytes, batch, series, buffer, mcpHttp, wsClients, maxLifetime, inFlightCloses, seed, mcpStdio, pid, startServer, serverArg, serverEnv, fillMessages, json,
        };
        root.SetAction(async (parse, cancellationToken) =>
        {
            var baseUrl = new Uri(parse.GetValue(url)!);
            if (!IsLoopback(baseUrl))
            {
                await Console.Error.WriteLineAsync($"--url must be a loopback address (127.0.0.1, [::1] or localhost), not {baseUrl.Host}");
                return 2;
            }

            var soak = parse.GetValue(mode) == "soak";
            var settings = new LoadSettings
            {
                Url = baseUrl,
                Mode = parse.GetValue(mode)!,
                Duration = TimeSpan.FromSeconds(Math.Clamp(soak && parse.GetResult(duration) is null or { Implicit: true } ? 600 : parse.GetValue(duration), 1, 3600)),
                Warmup = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmup))),
                Publishers = Math.Clamp(parse.GetValue(publishers), 0, 900),
                Subscribers = Math.Clamp(parse.GetValue(subscribers), 0, 900),
                Channels = Math.Clamp(parse.GetValue(channels), 1, 10_000),
                Rate = soak && parse.GetValue(rate) <= 0 ? 1000 : Math.Max(0, parse.GetValue(rate)),
                Pacing = parse.GetValue(pacing)!,
                Window = Math.Clamp(parse.GetValue(window), 1, 10_000),
                PayloadBytes = Math.Clamp(parse.GetValue(payloadBytes), 60, 1 << 20),
                SubscriberBuffer = parse.GetValue(buffer),
                Batch = parse.GetValue(batch),
                Series = parse.GetValue(series),
                McpHttpClients = Math.Clamp(soak && parse.GetResult(mcpHttp) is null or { Implicit: true } ? 4 : parse.GetValue(mcpHttp), 0, 100),
                WebSocketClients = Math.Clamp(parse.GetValue(wsClients), 0, 900),
                SoakMaxLifetime = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(maxLifetime), 1, 3600)),
                SoakSeed = parse.GetValue(seed),
                SoakInFlightCloses = parse.GetValue(inFlightCloses),
                McpStdioCommand = parse.GetValue(mcpStdio),
                ServerPid = parse.GetValue(pid),
                StartServer = parse.GetValue(startServer),
                ServerArguments = parse.GetValue(serverArg) ?? [],
                ServerEnvironment = parse.GetValue(serverEnv) ?? [],
                FillMessages = Math.Max(1, parse.GetValue(fillMessages)),
                JsonPath = parse.GetValue(json)!,
            };

            var report = await new LoadRunner(settings).RunAsync(cancellationToken);
            Print(report);
            await File.WriteAllTextAsync(settings.JsonPath, JsonSerializer.Serialize(report, LoadReportJsonContext.Default.LoadReport), cancellationToken);
            Console.WriteLine($"JSON report: {Path.GetFullPath(settings.JsonPath)}");
            return report.Passed ? 0 : 1;
        });
        return root;
    }

    private static string Mb(long? bytes) => bytes is { } b ? (b / (1024.0 * 1024)).ToString("F1", CultureInfo.InvariantCulture) : "n/a";

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static void Print(LoadReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var rows = new List<(string, string)>
        {
            ("mode", r.Mode),
            ("duration (s)", r.DurationSeconds.ToString("F1", c)),
        };
        if (r.Mode == "soak")
        {
            rows.Add(("clients: WebSocket / MCP (HTTP)", $"{r.WebSocketClients} / {r.McpClients}"));
            rows.Add(("channels, rate (msg/s)", $"{r.Channels}, {r.Rate.ToString("N0", c)}"));
            rows.Add(("sent / acked / refused", $"{r.Sent.ToString("N0", c)} / {r.Acked.ToString("N0", c)} / {r.SendErrors.ToString("N0", c)}"));
            rows.Add(("unconfirmed (connection ended) / of them stored", $"{r.Unconfirmed.ToString("N0", c)} / {r.UnconfirmedStored.ToString("N0", c)}"));
            rows.Add(("consumed (drained at end)", $"{r.Consumed.ToString("N0", c)} ({r.DrainedAtEnd.ToString("N0", c)})"));
            rows.Add(("lost / duplicated / unexpected", $"{r.Lost} / {r.Duplicates} / {r.Unexpected}"));
            rows.Add(("failed receives", r.FailedReceives.ToString(c)));
            rows.Add(("reconnects", r.Reconnects.ToString("N0", c)));
            rows.Add(("pushes (out of order or twice) / dropped", $"{r.Delivered.ToString("N0", c)} ({r.PushDuplicates}) / {r.ServerReportedDropped.ToString("N0", c)}"));
            rows.Add(("queue after drain: retained / backlog dropped", $"{r.RetainedMessages?.ToString("N0", c) ?? "n/a"} / {r.BacklogDropped?.ToString("N0", c) ?? "n/a"}"));
            foreach (var m in r.Mcp)
            {
                rows.Add(("mcp calls (errors)", $"{m.Calls.ToString("N0", c)} ({m.Errors})"));
            }

            rows.Add(("server RSS start / peak / end (MB)", r.ServerRssBytes is { } end ? $"{Mb(r.ServerRssStartBytes)} / {Mb(r.ServerPeakRssBytes)} / {Mb(end)}" : "n/a (no --server-pid)"));
            if (r.RssPerMinuteBytes.Count > 0)
            {
                rows.Add(("server RSS each minute (MB)", string.Join(" ", r.RssPerMinuteBytes.Select(b => Mb(b)))));
            }
        }
        else if (r.Mode == "fill")
        {
            rows.Add(("messages acked", r.Acked.ToString("N0", c)));
            rows.Add(("send rate (msg/s)", r.SentPerSecond.ToString("N0", c)));
            rows.Add(("retained (queue_stats)", r.RetainedMessages?.ToString("N0", c) ?? "n/a"));
        }
        else
        {
            rows.Add(("publishers / subscribers / channels", $"{r.Publishers} / {r.Subscribers} / {r.Channels}"));
            rows.Add(("target rate (msg/s)", r.Rate == 0 ? "max" : $"{r.Rate.ToString("N0", c)} (max schedule lag {r.MaxScheduleLagMs:F1} ms)"));
            if (r.ScheduleLag is { } lag)
            {
                rows.Add(("schedule lag p50 / p99 / p99.9 (ms)", $"{lag.P50Ms:F3} / {lag.P99Ms:F3} / {lag.P999Ms:F3}"));
            }

            rows.Add(("sent, acked (msg/s)", r.SentPerSecond.ToString("N0", c)));
            rows.Add(("delivered (msg/s)", r.DeliveredPerSecond.ToString("N0", c)));
            rows.Add(("delivered / expected", $"{r.Delivered.ToString("N0", c)} / {r.ExpectedDeliveries.ToString("N0", c)}"));
            rows.Add(("lost / duplicated", $"{r.Lost} / {r.Duplicates}"));
            rows.Add(("server-reported dropped", r.ServerReportedDropped.ToString("N0", c)));
            var sending = Math.Min(r.DeliveredSeries.Count, (int)r.DurationSeconds);
            if (sending > 5)
            {
                // Seconds 1-5 against the later whole seconds of sending (not the drain after it).
                var first = r.DeliveredSeries.Take(5).Average();
                var steady = r.DeliveredSeries.Skip(5).Take(sending - 5).Average();
                rows.Add(("delivered per second", string.Join(" ", r.DeliveredSeries.Select(d => d.ToString(c)))));
                rows.Add(("first 5 s / steady (msg/s)", $"{first.ToString("N0", c)} / {steady.ToString("N0", c)} = {(steady > 0 ? first / steady : 0).ToString("F2", c)}"));
            }

            if (r.PublishToDeliver is { } l)
            {
                rows.Add(("publish->deliver p50 / p99 / p99.9 / max (ms)", $"{l.P50Ms:F3} / {l.P99Ms:F3} / {l.P999Ms:F3} / {l.MaxMs:F3}"));
            }

            foreach (var m in r.Mcp)
            {
                rows.Add(($"mcp {m.Transport}: clients, calls/s", $"{m.Clients}, {m.CallsPerSecond.ToString("N0", c)} ({m.Errors} errors)"));
                if (m.Latency is { } ml)
                {
                    rows.Add(($"mcp {m.Transport}: tool call p50 / p99 (ms)", $"{ml.P50Ms:F3} / {ml.P99Ms:F3}"));
                }
            }
        }

        if (r.Mode == "soak")
        {
            Write(rows, r.Errors);
            return;
        }

        rows.Add(("send errors", r.SendErrors.ToString(c)));
        rows.Add(("CPU s: server / load generator", $"{(r.ServerCpuSeconds is { } sc ? sc.ToString("F1", c) : "n/a")} / {r.LoadCpuSeconds.ToString("F1", c)}"));
        rows.Add(("server RSS / peak (MB)", r.ServerRssBytes is { } rss ? $"{rss / (1024.0 * 1024):F1} / {r.ServerPeakRssBytes / (1024.0 * 1024):F1}" : "n/a (no --server-pid)"));
        Write(rows, r.Errors);
    }

    private static void Write(List<(string Name, string Value)> rows, IReadOnlyList<string> errors)
    {
        var width = rows.Max(row => row.Name.Length);
        Console.WriteLine();
        foreach (var (name, value) in rows)
        {
            Console.WriteLine($"  {name.PadRight(width)}  {value}");
        }

        foreach (var error in errors)
        {
            Console.WriteLine($"  ! {error}");
        }
    }
}
