using System.Globalization;
using BrummerQueue.Load;

namespace BrummerQueue.Server.Tests.Soak;

/// <summary>
/// Runs the load generator's soak mode (<see cref="SoakRunner"/>) in-process against a server on a real
/// loopback port: 100 WebSocket clients and 4 MCP clients with random disconnects and reconnects, then
/// a drain; every acknowledged message must be consumed exactly once. 60 s when <c>CI=true</c>, 10 s
/// otherwise; <c>BRUMMERQ_SOAK_SECONDS</c> overrides. The RSS figures are this test process's (server and
/// clients together); the 10-minute figure in docs comes from <c>brummerq-load --mode soak</c>.
/// </summary>
[Trait("Category", "Soak")]
public sealed class SoakTests
{
    [Fact]
    public async Task SoakMode_ClientsReconnectingAtRandom_EveryMessageConsumedExactlyOnce()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("BRUMMERQ_SOAK_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0
            ? s
            : Environment.GetEnvironmentVariable("CI") == "true" ? 60 : 10;
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var settings = new LoadSettings
        {
            Url = host.BaseAddress,
            Mode = "soak",
            Duration = TimeSpan.FromSeconds(seconds),
            Rate = 500,
            WebSocketClients = 100,
            McpHttpClients = 4,
            SoakMaxLifetime = TimeSpan.FromSeconds(8),
        };
        await using var process = ServerProcess.Attach(Environment.ProcessId);

        var report = await new SoakRunner(settings).RunAsync(process, TestContext.Current.CancellationToken);

        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"soak {report.DurationSeconds:F0} s: sent {report.Sent}, acked {report.Acked}, consumed {report.Consumed} (drained {report.DrainedAtEnd}), unconfirmed {report.Unconfirmed}, lost {report.Lost}, duplicated {report.Duplicates}, unexpected {report.Unexpected}, reconnects {report.Reconnects}, pushes {report.Delivered}, mcp calls {report.Mcp.Sum(m => m.Calls)} ({report.Mcp.Sum(m => m.Errors)} errors), RSS start/peak/end {report.ServerRssStartBytes >> 20}/{report.ServerPeakRssBytes >> 20}/{report.ServerRssBytes >> 20} MB");
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Assert.True(report.Passed, summary + "\n" + string.Join('\n', report.Errors));
        Assert.Equal(0, report.RetainedMessages);
        Assert.Equal(0, report.FailedReceives);
        Assert.True(report.Acked > 0 && report.Reconnects > 0 && report.Delivered > 0 && report.Mcp.Sum(m => m.Calls) > 0, summary);
        Assert.Equal(report.Acked + report.UnconfirmedStored, report.Consumed);
    }
}
