using BrummerQueue.Core;
using BrummerQueue.Server.Mcp;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>A cancelled MCP request ends its HTTP response at once and is not logged as a failure.</summary>
public sealed class McpCancellationTests
{
    [Fact]
    public async Task QueueReceive_BlockingCancelledByNotification_EndsTheResponseAndLogsNothingAboveDebug()
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: logs.InstallWithDebug);
        using var session = await RawMcpHttpClient.StartAsync(host.CreateHttpClient());

        using var waiting = await session.PostAsync("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"c","blocking":true,"timeout":120}}}""", TestContext.Current.CancellationToken);
        var body = waiting.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));
        using var cancelled = await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user pressed stop"}}""", TestContext.Current.CancellationToken);
        var text = await body.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Contains("\"id\":7", text, StringComparison.Ordinal);
        Assert.Contains("was cancelled", text, StringComparison.Ordinal);
        await McpToolsTests.WaitUntilAsync(() => !McpToolsTests.ReceiverWaiting(host.Queue));
        host.Queue.Send("c", new MessageDraft(Payload: JsonPayload.Parse("1")));
        Assert.Equal(1, host.Queue.GetStats().TotalMessages);
        Assert.Empty(logs.RequestLogs());
        AssertOneDebugLine(logs, McpLogEvents.ToolCancelled);
    }

    [Fact]
    public async Task QueueReceive_BlockingClientDisconnects_EndsTheRequestAndLogsNothingAboveDebug()
    {
        var logs = new LogCapture();
        var probe = new McpRequestProbe();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: b =>
        {
            logs.InstallWithDebug(b);
            probe.Install(b);
        });
        using var session = await RawMcpHttpClient.StartAsync(host.CreateHttpClient());
        using var abort = new CancellationTokenSource();

        var waiting = session.PostAsync("""{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"queue_receive","arguments":{"channel":"d","blocking":true,"timeout":120}}}""", abort.Token);
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));
        using (var response = await waiting)
        {
            await abort.CancelAsync();
        }

        await McpToolsTests.WaitUntilAsync(() => probe.InFlight == 0 && !McpToolsTests.ReceiverWaiting(host.Queue));
        Assert.Empty(logs.RequestLogs());
        AssertOneDebugLine(logs, McpLogEvents.ToolCancelled);
    }

    [Fact]
    public async Task QueueReceive_BlockingSessionDeleted_EndsTheCallAndLogsNothingAboveDebug()
    {
        var logs = new LogCapture();
        var probe = new ToolCallProbe();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: b =>
        {
            logs.InstallWithDebug(b);
            probe.Install(b);
        });
        var finished = probe.NextFinished;
        var client = await McpTestClient.ConnectAsync(host);

        var waiting = client.CallAsync("queue_receive", """{"channel":"e","blocking":true,"timeout":120}""");
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));
        await client.DisposeAsync();
        await finished.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        await Assert.ThrowsAnyAsync<Exception>(async () => await waiting);
        Assert.Empty(logs.RequestLogs());
        AssertOneDebugLine(logs, McpLogEvents.ToolCancelled);
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task QueueReceive_BlockingCancelledBySdkClient_LogsOneDebugLineInEveryRevision(string revision)
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartOnLoopbackAsync(configure: logs.InstallWithDebug);
        await using var client = await McpTestClient.ConnectAsync(host, protocolVersion: revision);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var waiting = client.CallCancellableAsync("queue_receive", """{"channel":"sdk","blocking":true,"timeout":120}""", cancel.Token);
        await McpToolsTests.WaitUntilAsync(() => McpToolsTests.ReceiverWaiting(host.Queue));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        await McpToolsTests.WaitUntilAsync(() => !McpToolsTests.ReceiverWaiting(host.Queue) && logs.WithEventId(McpLogEvents.ToolCancelled).Length > 0);
        await client.CallOkAsync("queue_stats");

        Assert.Empty(logs.RequestLogs());
        AssertOneDebugLine(logs, McpLogEvents.ToolCancelled);
    }

    /// <summary>Nothing at Warning or above and no exception logged; the request's one line is there, at Debug.</summary>
    internal static void AssertOneDebugLine(LogCapture logs, int eventId)
    {
        Assert.True(logs.Faults().Length == 0, logs.Dump());
        var line = Assert.Single(logs.WithEventId(eventId));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, line.Level);
    }
}
