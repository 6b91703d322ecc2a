using System.Globalization;
using System.Text.RegularExpressions;
using BrummerQueue.Server.Cli;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Settings;
using BrummerQueue.Server.Tests.Mcp;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>
/// What <c>brummerq serve</c> and <c>brummerq mcp</c> print on stderr at start, from the real process: the banner with
/// the port actually bound, and for <c>mcp</c> (whose stderr is the assistant's log) one brummerq line and no ASP.NET
/// lifetime lines.
/// </summary>
public sealed class StartupBannerTests
{
    private static readonly string[] s_lifetimeLines = ["Press Ctrl+C", "Application started", "Hosting environment", "Content root path", "Now listening on", "Microsoft.Hosting.Lifetime"];

    [Fact]
    public async Task Serve_PortZero_BannerShowsRealPortFaceUrlsClaudeLineAndSettings()
    {
        var directory = Directory.CreateTempSubdirectory("brummerq-banner-");
        using var process = BrummerqProcess.StartIn(directory.FullName, "serve", "--port", "0");
        var lines = ProcessLines.Read(process);
        try
        {
            var first = await lines.NextErrorAsync(l => l.StartsWith("brummerq ", StringComparison.Ordinal));
            var port = int.Parse(Regex.Match(first, @"serving on http://127\.0\.0\.1:(\d+)/ ").Groups[1].Value, CultureInfo.InvariantCulture);
            await lines.NextErrorAsync(l => l.Contains("Claude Code", StringComparison.Ordinal));
            using var http = new HttpClient();
            using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), TestContext.Current.CancellationToken);

            var banner = lines.SeenErrors.SkipWhile(l => l != first).ToList();
            Assert.True(port > 0);
            Assert.True(health.IsSuccessStatusCode);
            Assert.Equal(
                [
                    $"brummerq {BrummerQueue.Server.Mcp.BrummerMcpServer.Version} serving on http://127.0.0.1:{port}/ (Ctrl+C stops it)",
                    $"  dashboard    http://127.0.0.1:{port}/",
                    $"  MCP          http://127.0.0.1:{port}/mcp",
                    $"  WebSocket    ws://127.0.0.1:{port}/__brummer_ws__",
                    "  token        not required (loopback only: only this machine can connect)",
                    $"  settings     no appsettings.json in {directory.FullName} (flags, BRUMMERQ_* variables and defaults)",
                    "  store        memory (this process only)",
                    $"  Claude Code  claude mcp add --transport http brummerq http://127.0.0.1:{port}/mcp",
                ],
                banner);
        }
        finally
        {
            await StopAsync(process);
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Serve_Token_BannerSaysRequiredAddsHeaderToClaudeLineNeverPrintsToken()
    {
        const string Token = "banner-s3cret-token";
        var port = BrummerqProcess.FreePort();
        using var process = BrummerqProcess.StartWith(null, new() { ["BRUMMERQ_TOKEN"] = Token }, "serve", "--port", port.ToString(CultureInfo.InvariantCulture));
        var lines = ProcessLines.Read(process);
        try
        {
            var token = await lines.NextErrorAsync(l => l.StartsWith("  token ", StringComparison.Ordinal));
            var claude = await lines.NextErrorAsync(l => l.StartsWith("  Claude Code ", StringComparison.Ordinal));

            Assert.Equal("  token        required: Authorization: Bearer <token> (the WebSocket and /api also take ?token=<token>)", token);
            Assert.Equal($"  Claude Code  claude mcp add --transport http brummerq http://127.0.0.1:{port}/mcp --header \"Authorization: Bearer <token>\"", claude);
            Assert.Contains($"  dashboard    http://127.0.0.1:{port}/ (open it once as /?token=<token>)", lines.SeenErrors);
            Assert.DoesNotContain(lines.All, l => l.Contains(Token, StringComparison.Ordinal));
        }
        finally
        {
            await StopAsync(process);
        }
    }

    [Fact]
    public void Lines_StoreRedis_NamesTheRedisEndpointsButNotItsPassword()
    {
        var options = new ServerOptions { Store = "redis", Redis = "127.0.0.1:6380,password=s3cret,connectTimeout=1000" };
        var lines = StartupBanner.Lines(BrummerQueue.Server.Mcp.PortProbe.BaseAddress(options.Host, options.Port), options, SettingsFile.In(AppContext.BaseDirectory));
        Assert.Contains("  store        redis 127.0.0.1:6380 (shared with every node given the same Redis database)", lines);
        Assert.DoesNotContain(lines, l => l.Contains("s3cret", StringComparison.Ordinal));
    }

    [Fact]
    public void Lines_AllInterfacesWithoutToken_LoopbackUrlsAndSaysAnyoneMayConnect()
    {
        var options = new ServerOptions { Host = "0.0.0.0", Port = 9000, InsecureNoToken = true };

        var lines = StartupBanner.Lines(BrummerQueue.Server.Mcp.PortProbe.BaseAddress(options.Host, options.Port), options, SettingsFile.In(AppContext.BaseDirectory));

        Assert.Equal("  MCP          http://127.0.0.1:9000/mcp", lines[2]);
        Assert.Equal("  token        not required (--insecure-no-token: anyone who can reach 0.0.0.0 may use the queue)", lines[4]);
    }

    [Fact]
    public async Task Mcp_Hosting_OneBrummerqLineWithPortAndSettingsNoLifetimeLines()
    {
        var directory = Directory.CreateTempSubdirectory("brummerq-mcp-");
        var port = BrummerqProcess.FreePort();
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "appsettings.json"), "{\"Brummerq\":{\"Port\":" + port + "}}", TestContext.Current.CancellationToken);
        using var process = BrummerqProcess.StartIn(directory.FullName, "mcp");
        var lines = ProcessLines.Read(process);
        try
        {
            var line = await lines.NextErrorAsync(l => l.StartsWith("brummerq:", StringComparison.Ordinal));
            using var http = new HttpClient();
            using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), TestContext.Current.CancellationToken);
            process.StandardInput.Close();
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            Assert.Equal(
                $"brummerq: MCP on stdio, hosting the queue on http://127.0.0.1:{port}/ (dashboard /, MCP /mcp, WebSocket /__brummer_ws__); " +
                $"settings: {Path.Combine(directory.FullName, "appsettings.json")}",
                line);
            Assert.True(health.IsSuccessStatusCode);
            Assert.Equal(0, process.ExitCode);
            Assert.Single(lines.All, l => l.StartsWith("brummerq", StringComparison.Ordinal));
            foreach (var lifetime in s_lifetimeLines)
            {
                Assert.DoesNotContain(lines.All, l => l.Contains(lifetime, StringComparison.Ordinal));
            }
        }
        finally
        {
            await StopAsync(process);
            directory.Delete(recursive: true);
        }
    }

    private static async Task StopAsync(System.Diagnostics.Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }
}
