using System.Text.Json;
using BrummerQueue.Server.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// SPEC.md §2 "Long waits": a blocking <c>queue_receive</c> with a progress token keeps a client that aborts idle
/// calls (here after 20 s of silence) alive, over Streamable HTTP (fake clock, the real default interval), over
/// stdio and through attach mode (real processes, the interval shortened by <see cref="ReceiveKeepAlive.IntervalVariable"/>).
/// </summary>
public sealed class ReceiveKeepAliveTests
{
    private static readonly TimeSpan s_clientSilenceLimit = TimeSpan.FromSeconds(20);

    // Process tests: notifications every 200 ms, and a client that gives up after 3 s of silence, over a 6 s wait.
    private static readonly Dictionary<string, string?> s_shortInterval = new() { [ReceiveKeepAlive.IntervalVariable] = "200" };
    private static readonly TimeSpan s_processSilenceLimit = TimeSpan.FromSeconds(3);

    [Fact]
    public void Interval_Default_IsAtMost15Seconds()
    {
        Assert.InRange(ReceiveKeepAlive.DefaultInterval, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        Assert.Equal(ReceiveKeepAlive.DefaultInterval, ReceiveKeepAlive.IntervalFrom(null));
        Assert.Equal(ReceiveKeepAlive.DefaultInterval, ReceiveKeepAlive.IntervalFrom("0"));
        Assert.Equal(ReceiveKeepAlive.DefaultInterval, ReceiveKeepAlive.IntervalFrom("60000"));
        Assert.Equal(ReceiveKeepAlive.DefaultInterval, ReceiveKeepAlive.IntervalFrom("fast"));
        Assert.Equal(TimeSpan.FromMilliseconds(200), ReceiveKeepAlive.IntervalFrom("200"));
    }

    [Fact]
    public async Task QueueReceive_BlockingWithProgressTokenOverHttp_NeverSilentFor20Seconds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));
        var log = new ProgressLog();
        await using var client = await McpTestClient.ConnectAsync(host, log.ClientOptions);
        var call = client.CallToolAsync(
            ProgressLog.Call("queue_receive", """{"channel":"slow","blocking":true,"timeout":45}""", "wait-1"),
            TestContext.Current.CancellationToken).AsTask();
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));

        // A client that aborts after 20 s without a sign of life: before the fake clock passes 20 s since the last
        // one, a notification must have arrived (each says how long the call has waited).
        double lastSign = 0;
        for (var second = 1; second <= 45; second++)
        {
            if (log.TakeArrived() is { } arrived)
            {
                lastSign = Math.Max(lastSign, arrived.Progress.Progress);
            }

            if (second - lastSign > s_clientSilenceLimit.TotalSeconds)
            {
                var next = await log.NextAsync(TimeSpan.FromSeconds(10))
                    ?? throw new Xunit.Sdk.XunitException($"no progress notification {second - 1 - lastSign} s after the last sign of life: a client that aborts after 20 s of silence gives up");
                lastSign = Math.Max(lastSign, next.Progress.Progress);
            }

            time.Advance(TimeSpan.FromSeconds(1));
        }

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(0, result.StructuredContent!.Value.GetProperty("count").GetInt32());

        // Nothing after the result, however long the clock runs on (the ping lets anything sent arrive first).
        time.Advance(TimeSpan.FromMinutes(2));
        await client.PingAsync(cancellationToken: TestContext.Current.CancellationToken);
        var sent = log.All;
        Assert.All(sent, p =>
        {
            Assert.Equal("wait-1", p.ProgressToken.ToString());
            Assert.Equal(45, p.Progress.Total);
            Assert.StartsWith("waiting for a message on channel slow (", p.Progress.Message, StringComparison.Ordinal);
            Assert.EndsWith(" s of 45 s)", p.Progress.Message, StringComparison.Ordinal);
        });

        // At most one per interval while the call waited (45 s), none after, and never 20 s of silence (a tick whose
        // turn comes while the previous notification is still being written is skipped, so a loaded machine may
        // send fewer; the client may run its handler out of order).
        var interval = ReceiveKeepAlive.DefaultInterval.TotalSeconds;
        var marks = sent.Select(p => (double)p.Progress.Progress).Order().ToList();
        Assert.Equal(marks.Distinct().Count(), marks.Count);
        Assert.All(marks, m => Assert.True(m % interval == 0 && m <= 45, $"progress at {m} s"));
        Assert.All(marks.Prepend(0).Append(45).Zip(marks.Append(45)), pair => Assert.True(pair.Second - pair.First <= s_clientSilenceLimit.TotalSeconds, $"silent from {pair.First} s to {pair.Second} s"));
    }

    [Fact]
    public async Task QueueReceive_BlockingWithoutProgressToken_SendsNoProgress()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));
        var log = new ProgressLog();
        await using var client = await McpTestClient.ConnectAsync(host, log.ClientOptions);
        var call = client.CallToolAsync(
            ProgressLog.Call("queue_receive", """{"channel":"quiet","blocking":true,"timeout":40}""", progressToken: null),
            TestContext.Current.CancellationToken).AsTask();
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));

        for (var second = 1; second <= 40; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await client.PingAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, result.StructuredContent!.Value.GetProperty("count").GetInt32());
        Assert.Equal(0, log.Count);
    }

    [Fact]
    public async Task QueueReceive_MessageArrivesDuringKeepAlive_ReturnsItAndStopsProgress()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestServerHost.StartInProcessAsync(configure: b => b.Services.AddSingleton<TimeProvider>(time));
        var log = new ProgressLog();
        await using var client = await McpTestClient.ConnectAsync(host, log.ClientOptions);
        var subscription = (await client.CallOkAsync("queue_subscribe", """{"channel":"events"}""")).GetProperty("subscription_id").GetString();
        var start = time.GetUtcNow();
        var call = client.CallToolAsync(
            ProgressLog.Call("queue_receive", $$"""{"subscription_id":"{{subscription}}","blocking":true,"timeout":300}""", "wait-2"),
            TestContext.Current.CancellationToken).AsTask();

        // A receive on a subscription is not counted as a waiting receiver: run the clock until it reports.
        await McpToolsTests.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return log.Count > 0;
        });
        var first = await log.NextAsync(TimeSpan.FromSeconds(10));

        var waitedWhenSent = (time.GetUtcNow() - start).TotalSeconds;
        await client.CallOkAsync("queue_send", """{"channel":"events","payload":{"clicked":true}}""");
        var result = await call.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.NotNull(first);
        Assert.Matches($@"^waiting for a message on subscription {subscription} \(\d+ s of 300 s\)$", first.Progress.Message);
        Assert.Equal(1, result.StructuredContent!.Value.GetProperty("count").GetInt32());
        time.Advance(TimeSpan.FromMinutes(5));
        await client.PingAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(log.All, p => Assert.True(p.Progress.Progress <= waitedWhenSent, $"progress at {p.Progress.Progress} s, after the message came at {waitedWhenSent} s"));
    }

    [Fact]
    public async Task QueueReceive_BlockingWithProgressTokenOverStdio_ClientNeverAborts()
    {
        var port = BrummerqProcess.FreePort();
        var log = new ProgressLog();
        await using var stdio = await BrummerqProcess.ConnectStdioAsync(port, environment: s_shortInterval, options: log.ClientOptions);

        var result = await log.CallAbortingAfterSilenceAsync(
            stdio,
            ProgressLog.Call("queue_receive", """{"channel":"slow","blocking":true,"timeout":6}""", "stdio-1"),
            s_processSilenceLimit);

        Assert.Equal(0, result.StructuredContent!.Value.GetProperty("count").GetInt32());
        Assert.True(log.Count >= 2, $"expected progress all along a 6 s wait, got {log.Count}");
        Assert.All(log.All, p => Assert.Contains("on channel slow (", p.Progress.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueueReceive_BlockingWithProgressTokenInAttachMode_ClientNeverAborts()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var log = new ProgressLog();
        var errors = new List<string>();
        await using var attached = await BrummerqProcess.ConnectStdioAsync(host.BaseAddress.Port, errors, s_shortInterval, log.ClientOptions);

        var result = await log.CallAbortingAfterSilenceAsync(
            attached,
            ProgressLog.Call("queue_receive", """{"channel":"remote","blocking":true,"timeout":6}""", "attach-1"),
            s_processSilenceLimit);

        Assert.Equal(0, result.StructuredContent!.Value.GetProperty("count").GetInt32());
        Assert.True(log.Count >= 2, $"expected progress all along a 6 s wait, got {log.Count}");
        Assert.All(log.All, p => Assert.Equal("attach-1", p.ProgressToken.ToString()));
        lock (errors)
        {
            Assert.Contains(errors, line => line.Contains("Attached to the brummerq at", StringComparison.Ordinal));
        }
    }
}
