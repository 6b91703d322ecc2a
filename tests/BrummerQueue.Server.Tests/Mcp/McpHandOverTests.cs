using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BrummerQueue.Server.Mcp;
using BrummerQueue.Server.Tests.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// The hosting hand-over of <c>brummerq mcp</c>, with real processes: the hosting process is killed, and an attached
/// process takes over hosting on the port at its next call (or attaches to the one that did).
/// </summary>
public sealed class McpHandOverTests
{
    private const string HandOverMeta = "brummerq/handover";

    [Fact]
    public async Task Mcp_HostKilled_AttachedTakesOverAtNextCallAndServesThePort()
    {
        var port = BrummerqProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var host = await StartHostAsync(port);
        var stderr = new List<string>();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(port, stderr);
        var subscription = (await attached.CallOkAsync("queue_subscribe", """{"channel":"coord"}""")).GetProperty("subscription_id").GetString();
        await attached.CallOkAsync("queue_send", """{"channel":"tasks","payload":"on the old host"}""");

        await KillAsync(host);
        var first = await attached.CallAsync("queue_stats").WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        // The call succeeds on the new queue (the old host's message is gone) and says so once: a text line and _meta.
        Assert.True(first.IsError is null or false, string.Concat(first.Content.OfType<TextContentBlock>().Select(t => t.Text)));
        Assert.Equal(0, Assert.NotNull(first.StructuredContent).GetProperty("messages_sent").GetInt64());
        Assert.Equal(2, first.Content.Count);
        Assert.Equal(first.StructuredContent.Value.GetRawText(), JsonDocument.Parse(Assert.IsType<TextContentBlock>(first.Content[0]).Text).RootElement.GetRawText());
        var notice = Assert.IsType<TextContentBlock>(first.Content[1]).Text;
        Assert.Contains("Hosting hand-over", notice, StringComparison.Ordinal);
        Assert.Contains("now hosts the queue", notice, StringComparison.Ordinal);
        var meta = Assert.IsType<JsonObject>(first.Meta?[HandOverMeta]);
        Assert.True(meta["hosted_here"]!.GetValue<bool>());
        Assert.Equal(baseAddress.ToString(), meta["url"]!.GetValue<string>());
        var second = await attached.CallAsync("queue_stats");
        Assert.Single(second.Content);
        Assert.Null(second.Meta?[HandOverMeta]);

        // The port is served by this process: a browser's WebSocket reaches its queue.
        await using (var socket = await TestSocket.ConnectAsync(baseAddress))
        {
            var ack = await socket.RequestAsync("queue_message", "1", new { channel = "after", payload = "from a browser" });
            Assert.Equal("ack", ack.GetProperty("type").GetString());
        }

        var received = await attached.CallOkAsync("queue_receive", """{"channel":"after"}""");
        Assert.Equal("from a browser", received.GetProperty("messages")[0].GetProperty("payload").GetString());

        // The subscription held on the old host is gone: not_found naming the hand-over.
        var gone = await attached.CallAsync("queue_receive", $$"""{"subscription_id":"{{subscription}}"}""");
        Assert.True(gone.IsError);
        Assert.Contains("hand-over", Assert.IsType<TextContentBlock>(Assert.Single(gone.Content)).Text, StringComparison.Ordinal);
        Assert.Equal("not_found", gone.Meta?["brummerq/error"]?["code"]?.GetValue<string>());
        var fresh = (await attached.CallOkAsync("queue_subscribe", """{"channel":"coord"}""")).GetProperty("subscription_id").GetString();
        Assert.NotEqual(subscription, fresh);

        await WaitForLineAsync(stderr, "Hosting hand-over");
        lock (stderr)
        {
            Assert.Single(stderr, l => l.Contains("Hosting hand-over", StringComparison.Ordinal));
            Assert.Contains(stderr, l => l.Contains("this process now hosts the queue there", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Mcp_HostKilledDuringBlockingReceive_ReceiveWaitsOnOnTheNewHost()
    {
        var port = BrummerqProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var host = await StartHostAsync(port);
        var stderr = new List<string>();
        var log = new ProgressLog();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(port, stderr, new() { [ReceiveKeepAlive.IntervalVariable] = "100" }, log.ClientOptions);
        var waiting = attached.CallToolAsync(
            ProgressLog.Call("queue_receive", """{"channel":"jobs","blocking":true,"timeout":50}""", "handover-1"),
            TestContext.Current.CancellationToken).AsTask();

        // The first keep-alive comes once the call is forwarded to the host and waits there.
        Assert.NotNull(await log.NextAsync(TimeSpan.FromSeconds(30)));

        await KillAsync(host);
        await WaitForLineAsync(stderr, "this process now hosts the queue there");
        await using (var socket = await TestSocket.ConnectAsync(baseAddress))
        {
            await socket.RequestAsync("queue_message", "1", new { channel = "jobs", payload = "for the new host" });
        }

        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(result.IsError is null or false, string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text)));
        Assert.Equal("for the new host", Assert.NotNull(result.StructuredContent).GetProperty("messages")[0].GetProperty("payload").GetString());
        Assert.True(Assert.IsType<JsonObject>(result.Meta?[HandOverMeta])["hosted_here"]!.GetValue<bool>());
        lock (stderr)
        {
            Assert.DoesNotContain(stderr, l => l.StartsWith("fail:", StringComparison.Ordinal));
            Assert.DoesNotContain(stderr, l => l.Contains("Could not return undelivered messages", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Mcp_HostKilledWithTwoAttached_ExactlyOneHostsAndBothCallsSucceed()
    {
        var port = BrummerqProcess.FreePort();
        var host = await StartHostAsync(port);
        var stderrA = new List<string>();
        var stderrB = new List<string>();
        await using var a = await BrummerqProcess.ConnectStdioAsync(port, stderrA);
        await using var b = await BrummerqProcess.ConnectStdioAsync(port, stderrB);
        await a.CallOkAsync("queue_send", """{"channel":"tasks","payload":"on the old host"}""");

        await KillAsync(host);
        var calls = await Task.WhenAll(a.CallAsync("queue_stats"), b.CallAsync("queue_stats"))
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        foreach (var call in calls)
        {
            Assert.True(call.IsError is null or false, string.Concat(call.Content.OfType<TextContentBlock>().Select(t => t.Text)));
            Assert.Equal(0, Assert.NotNull(call.StructuredContent).GetProperty("messages_sent").GetInt64());
        }

        // Exactly one process binds the port and hosts; the other attaches to it, and both say which in their result.
        var hostedHere = calls.Select(c => Assert.IsType<JsonObject>(c.Meta?[HandOverMeta])["hosted_here"]!.GetValue<bool>()).ToList();
        Assert.Single(hostedHere, h => h);
        Assert.Single(hostedHere, h => !h);
        await WaitForLineAsync(stderrA, "Hosting hand-over");
        await WaitForLineAsync(stderrB, "Hosting hand-over");
        var logs = new[] { stderrA, stderrB }.Select(l =>
        {
            lock (l)
            {
                return string.Join('\n', l);
            }
        }).ToList();
        Assert.Single(logs, l => l.Contains("this process now hosts the queue there", StringComparison.Ordinal));
        Assert.Single(logs, l => l.Contains("this process attached to it", StringComparison.Ordinal));

        // The loser of the race stops the host it began quietly: no "crit"/"fail" in an assistant's log (a new user saw a crit).
        Assert.All(logs, l => Assert.DoesNotContain("crit:", l, StringComparison.Ordinal));
        Assert.All(logs, l => Assert.DoesNotContain("fail:", l, StringComparison.Ordinal));

        // They share the new queue.
        await a.CallOkAsync("queue_send", """{"channel":"after","payload":"from A"}""");
        var fromA = await b.CallOkAsync("queue_receive", """{"channel":"after"}""");
        Assert.Equal("from A", fromA.GetProperty("messages")[0].GetProperty("payload").GetString());
    }

    [Fact]
    public async Task Mcp_HostKilledWithWakeChannel_NewHostWakesTheAssistant()
    {
        var port = BrummerqProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var host = await StartHostAsync(port);
        var events = new ChannelEventCollector();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(port, arguments: ["--wake", "from-web"], options: events.ClientOptions());
        await attached.CallOkAsync("queue_list_channels");

        await KillAsync(host);
        var handedOver = await attached.CallAsync("queue_list_channels").WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.NotNull(handedOver.Meta?[HandOverMeta]);
        await using (var socket = await TestSocket.ConnectAsync(baseAddress))
        {
            await socket.RequestAsync("queue_message", "1", new { channel = "from-web", payload = "after the hand-over" });
        }

        // The --wake channel was subscribed again on the new queue, which this process now hosts.
        var (content, meta) = await events.NextAsync();
        Assert.Equal("from-web", meta["channel"]);
        Assert.Equal("after the hand-over", Assert.Single(ChannelEventCollector.Messages(content)).GetProperty("payload").GetString());
    }

    [Fact]
    public async Task Mcp_HostGoneAndPortTakenByAnotherProgram_CallFailsNamingThePortInOneLogLine()
    {
        var port = BrummerqProcess.FreePort();
        var host = await StartHostAsync(port);
        var stderr = new List<string>();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(port, stderr);
        await attached.CallOkAsync("queue_list_channels");

        await KillAsync(host);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var other = builder.Build();
        other.MapGet("/healthz", () => "fine");
        await other.StartAsync(TestContext.Current.CancellationToken);
        var error = await attached.CallAsync("queue_stats").WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.True(error.IsError);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(error.Content)).Text;
        Assert.Contains($"http://127.0.0.1:{port}/", text, StringComparison.Ordinal);
        Assert.Contains("could not take over hosting", text, StringComparison.Ordinal);
        Assert.Contains("another program answers there", text, StringComparison.Ordinal);

        // On stderr the failure is one log line, without stack traces (stderr is read apart from stdout: await the line).
        await WaitForLineAsync(stderr, "could not take over hosting");
        lock (stderr)
        {
            var log = string.Join('\n', stderr);
            Assert.False(stderr.Any(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)), log);
        }
    }

    [Fact]
    public async Task Mcp_StoreRedisButTheServerOnThePortKeepsItsQueueInMemory_RefusesToAttachNamingBoth()
    {
        await using var server = await TestServerHost.StartOnLoopbackAsync();
        var port = server.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);
        using var process = BrummerqProcess.Start("mcp", "--port", port, "--store", "redis", "--redis", "127.0.0.1:1");
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains($"the brummerq serving http://127.0.0.1:{port}/ keeps its queue in memory, but this 'brummerq mcp' was given --store redis", await stderr, StringComparison.Ordinal);
    }

    /// <summary>Starts a hosting <c>brummerq mcp</c> (stdin left open) and waits until it serves <c>/healthz</c> (at most 60 s).</summary>
    private static async Task<Process> StartHostAsync(int port)
    {
        var process = BrummerqProcess.Start("mcp", "--port", port.ToString(CultureInfo.InvariantCulture));
        _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var http = new HttpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                if ((await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), timeout.Token)).IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
                Assert.False(process.HasExited, "the hosting brummerq mcp exited at start");
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>Awaits a stderr line containing <paramref name="text"/> (stderr is read apart from stdout, so it may lag behind an answer).</summary>
    private static Task WaitForLineAsync(List<string> stderr, string text) => McpToolsTests.WaitUntilAsync(() =>
    {
        lock (stderr)
        {
            return stderr.Any(l => l.Contains(text, StringComparison.Ordinal));
        }
    });

    /// <summary>Kills the hosting process (no goodbye: SIGKILL) and waits until it is gone.</summary>
    private static async Task KillAsync(Process host)
    {
        using (host)
        {
            host.Kill(entireProcessTree: true);
            await host.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }
}
