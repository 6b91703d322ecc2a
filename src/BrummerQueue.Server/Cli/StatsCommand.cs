using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace BrummerQueue.Server.Cli;

/// <summary><c>brummerq stats</c>: prints a running server's totals and per-channel figures as a table.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the raw stats JSON instead of a table" };
        var host = ServerClientOptions.CreateHostOption();
        var port = ServerClientOptions.CreatePortOption();
        var url = ServerClientOptions.CreateUrlOption(host, port);
        var token = ServerClientOptions.CreateTokenOption();
        var command = new Command("stats", "Show a running brummerq server's totals and channels.") { json, url, host, port, token };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var baseUrl = parse.GetRequiredValue(url);
            var tokenValue = ServerClientOptions.GetToken(parse, token);
            using var client = ServerClientOptions.CreateHttpClient(baseUrl, tokenValue);
            try
            {
                using var response = await client.GetAsync(new Uri("api/stats", UriKind.Relative), cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return await ServerAnswer.ReportErrorAsync("stats", baseUrl, response, tokenValue is not null, error, cancellationToken);
                }

                var text = await response.Content.ReadAsStringAsync(cancellationToken);

                // Formatted before anything is printed, --json too: an answer that is not brummerq's stats is reported, not printed.
                using var document = JsonDocument.Parse(text);
                var table = FormatTable(document.RootElement);
                await output.WriteAsync(parse.GetValue(json) ? text + Environment.NewLine : table);
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
                || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Unreachable, timed out, or an answer that is not brummerq's stats.
                return await ServerAnswer.ReportBrokenAsync("stats", baseUrl, ex, error, cancellationToken);
            }
        });
        return command;
    }

    /// <summary>
    /// A summary line of totals, then one row per channel, then (when there are any) one row per open subscription
    /// with its owner kind, when it was last read and when the idle limit ends it (<c>reading</c> while a reader waits).
    /// </summary>
    internal static string FormatTable(JsonElement stats)
    {
        var culture = CultureInfo.InvariantCulture;
        long Total(string name) => stats.GetProperty(name).GetInt64();
        var text = new System.Text.StringBuilder();
        text.AppendLine(culture, $"uptime {Total("uptime_seconds")}s   channels {Total("total_channels")}   messages {Total("total_messages")}   bytes {Total("total_bytes")}   subscriptions {Total("total_subscriptions")}");
        text.AppendLine(culture, $"sent {Total("messages_sent")}   consumed {Total("messages_consumed")}   expired {Total("messages_expired")}   dropped {Total("messages_dropped")}");

        // Acknowledged receive's totals, once any lease was taken (a server from before leases has none).
        if (stats.TryGetProperty("messages_leased", out var leased) && leased.GetInt64() > 0)
        {
            text.AppendLine(culture, $"leases: in flight {Total("messages_in_flight")}   leased {leased.GetInt64()}   acked {Total("messages_acked")}   redelivered {Total("messages_redelivered")}   dead-lettered {Total("messages_dead_lettered")}");
        }

        text.AppendLine();

        string[] fields = ["messages", "subscriptions", "sent", "consumed", "expired", "dropped"];
        List<string[]> rows = [["CHANNEL", "MESSAGES", "SUBS", "SENT", "CONSUMED", "EXPIRED", "DROPPED"]];
        foreach (var channel in stats.GetProperty("channels").EnumerateObject())
        {
            rows.Add([channel.Name, .. fields.Select(field => channel.Value.GetProperty(field).GetInt64().ToString(culture))]);
        }

        AppendTable(text, rows);
        if (rows.Count == 1)
        {
            text.AppendLine("(no channels)");
        }

        // A server from before the subscription list has none: print nothing rather than fail.
        if (stats.TryGetProperty("subscriptions", out var subscriptions) && subscriptions.GetArrayLength() > 0)
        {
            text.AppendLine();
            rows = [["CHANNEL", "OWNER", "LAST-READ", "BUFFERED", "DROPPED", "IDLE-ENDS"]];
            foreach (var subscription in subscriptions.EnumerateArray())
            {
                rows.Add([
                    subscription.GetProperty("channel").GetString() ?? "",
                    subscription.GetProperty("owner").GetString() ?? "",
                    subscription.GetProperty("last_read_at").GetString() ?? "",
                    subscription.GetProperty("buffered").GetInt64().ToString(culture),
                    subscription.GetProperty("dropped").GetInt64().ToString(culture),
                    subscription.GetProperty("idle_expires_at").GetString() ?? "reading",
                ]);
            }

            AppendTable(text, rows);
        }

        return text.ToString();
    }

    /// <summary>Appends rows as columns two spaces apart: numbers right-aligned, text (and the first column) left-aligned.</summary>
    private static void AppendTable(System.Text.StringBuilder text, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var numeric = Enumerable.Range(0, rows[0].Length).Select(c => c > 0 && rows.Skip(1).All(r => long.TryParse(r[c], CultureInfo.InvariantCulture, out _))).ToArray();
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                var cell = numeric[c] ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]);
                text.Append(c == 0 ? string.Empty : "  ").Append(c == row.Length - 1 ? cell.TrimEnd() : cell);
            }

            text.AppendLine();
        }
    }
}
