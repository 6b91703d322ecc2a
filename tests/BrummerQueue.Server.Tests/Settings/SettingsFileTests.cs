using System.Collections;
using System.Diagnostics;
using System.Globalization;
using BrummerQueue.Server.Cli;
using BrummerQueue.Server.Settings;
using BrummerQueue.Server.Tests.Cli;
using BrummerQueue.Server.Tests.Mcp;

namespace BrummerQueue.Server.Tests.Settings;

/// <summary>
/// appsettings.json is read from the working directory in every launch mode (the built dll, <c>dotnet run</c>) and
/// named at start; the client commands find the server by the same settings (<c>--url</c>, <c>BRUMMERQ_URL</c>, host and port).
/// </summary>
public sealed class SettingsFileTests
{
    [Fact]
    public async Task Serve_AppsettingsInWorkingDirectory_PortReadAndFileNamedAtStart()
    {
        using var directory = new TempDirectory();
        var port = BrummerqProcess.FreePort();
        await directory.WriteAppsettingsAsync("{\"Brummerq\":{\"Port\":" + port + "}}");
        using var process = BrummerqProcess.StartIn(directory.Path, "serve");

        await AssertServesWithSettingsAsync(process, port, directory.AppsettingsPath);
    }

    [Fact]
    public async Task DotnetRun_FromAnotherDirectory_ReadsThatDirectorysAppsettings()
    {
        using var directory = new TempDirectory();
        var port = BrummerqProcess.FreePort();
        await directory.WriteAppsettingsAsync("{\"Brummerq\":{\"Port\":" + port + "}}");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory.Path,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // The README's command, with the build the tests already made (the Web SDK would run it in the project folder).
        foreach (var argument in new[] { "run", "--no-build", "-c", BuildConfiguration, "--project", Path.Combine(RepositoryRoot(), "src", "BrummerQueue.Server"), "--", "serve" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet run");

        await AssertServesWithSettingsAsync(process, port, directory.AppsettingsPath);
    }

    [Fact]
    public void DefaultUrl_Sources_UrlVariableBeatsHostAndPortBeatAppsettingsBeatsDefault()
    {
        using var directory = new TempDirectory();
        var file = SettingsFile.In(directory.Path);

        var none = ServerClientOptions.DefaultUrl(new Hashtable(), file);
        File.WriteAllText(directory.AppsettingsPath, """{"Brummerq":{"Port":9200,"Host":"::1"}}""");
        var fromFile = ServerClientOptions.DefaultUrl(new Hashtable(), file);
        var fromVariables = ServerClientOptions.DefaultUrl(new Hashtable { ["BRUMMERQ_PORT"] = "9100", ["BRUMMERQ_HOST"] = "0.0.0.0" }, file);
        var fromUrl = ServerClientOptions.DefaultUrl(new Hashtable { ["BRUMMERQ_URL"] = "http://queue.example:7000/", ["BRUMMERQ_PORT"] = "9100" }, file);
        var fromFlags = ServerClientOptions.DefaultUrl(new Hashtable { ["BRUMMERQ_URL"] = "http://queue.example:7000/" }, file, new Dictionary<string, string?> { ["Brummerq:Port"] = "9300" });

        Assert.Equal(new Uri("http://127.0.0.1:8080/"), none);
        Assert.Equal(new Uri("http://[::1]:9200/"), fromFile);
        Assert.Equal(new Uri("http://127.0.0.1:9100/"), fromVariables);
        Assert.Equal(new Uri("http://queue.example:7000/"), fromUrl);
        Assert.Equal(new Uri("http://[::1]:9300/"), fromFlags);
    }

    [Fact]
    public void DefaultUrl_MalformedPortOrUrl_ErrorNamesTheSetting()
    {
        using var directory = new TempDirectory();
        var file = SettingsFile.In(directory.Path);

        var port = Assert.Throws<SettingsException>(() => ServerClientOptions.DefaultUrl(new Hashtable { ["BRUMMERQ_PORT"] = "eighty" }, file));
        var zero = Assert.Throws<SettingsException>(() => ServerClientOptions.DefaultUrl(new Hashtable { ["BRUMMERQ_PORT"] = "0" }, file));
        var url = Assert.Throws<SettingsException>(() => ServerClientOptions.DefaultUrl(new Hashtable { ["BRUMMERQ_URL"] = "queue:80" }, file));

        Assert.Equal("Invalid setting Port (--port, BRUMMERQ_PORT, Brummerq:Port): 'eighty' is not an integer.", port.Message);
        Assert.Contains("a client needs the server's port (1-65535), not 0; pass --url or BRUMMERQ_URL", zero.Message, StringComparison.Ordinal);
        Assert.Equal("BRUMMERQ_URL must be an http:// or https:// URL, not 'queue:80'", url.Message);
    }

    [Fact]
    public void SettingsToken_VariableBeatsAppsettings()
    {
        using var directory = new TempDirectory();
        var file = SettingsFile.In(directory.Path);
        File.WriteAllText(directory.AppsettingsPath, """{"Brummerq":{"Token":"from-file"}}""");

        Assert.Equal("from-file", ServerClientOptions.SettingsToken(new Hashtable(), file));
        Assert.Equal("from-env", ServerClientOptions.SettingsToken(new Hashtable { ["BRUMMERQ_TOKEN"] = "from-env" }, file));
    }

    [Fact]
    public async Task ClientCommands_NoUrl_FollowPortVariableAppsettingsAndUrlVariable()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync(new() { ["Brummerq:Token"] = "file-t0ken" });
        var port = host.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);
        using var empty = new TempDirectory();
        using var withFile = new TempDirectory();
        await withFile.WriteAppsettingsAsync("{\"Brummerq\":{\"Port\":" + port + ",\"Token\":\"file-t0ken\"}}");
        var nobody = $"http://127.0.0.1:{BrummerqProcess.FreePort()}/";

        var byPort = await RunAsync(empty.Path, new() { ["BRUMMERQ_PORT"] = port, ["BRUMMERQ_TOKEN"] = "file-t0ken" }, "send", "c", "1");
        var byFile = await RunAsync(withFile.Path, [], "send", "c", "2");
        var byUrl = await RunAsync(withFile.Path, new() { ["BRUMMERQ_URL"] = nobody }, "stats");
        var stats = await RunAsync(withFile.Path, [], "stats", "--json");

        Assert.True(byPort.ExitCode == 0, byPort.Stderr);
        Assert.True(byFile.ExitCode == 0, byFile.Stderr);
        Assert.Equal(1, byUrl.ExitCode);
        Assert.Contains($"cannot reach a brummerq server at {nobody}", byUrl.Stderr, StringComparison.Ordinal);
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        Assert.Equal(2, host.Queue.GetStats().MessagesSent);
    }

    [Fact]
    public async Task ClientCommands_PortAndHostFlags_ReachTheServerWithoutUrl()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        var port = host.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);

        var (sent, _, sendError) = await CliRunner.RunAsync("send", "flags", "1", "--port", port);
        var (stats, output, statsError) = await CliRunner.RunAsync("stats", "--json", "--host", "127.0.0.1", "--port", port);
        var (bad, _, badError) = await CliRunner.RunAsync("stats", "--port", "eighty");

        Assert.True(sent == 0, sendError.Text);
        Assert.True(stats == 0, statsError.Text);
        Assert.Contains("\"messages_sent\":1", output.Text, StringComparison.Ordinal);
        Assert.NotEqual(0, bad);
        Assert.Contains("Invalid setting Port (--port, BRUMMERQ_PORT, Brummerq:Port): 'eighty' is not an integer.", badError.Text, StringComparison.Ordinal);
    }

    private static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static async Task AssertServesWithSettingsAsync(Process process, int port, string appsettingsPath)
    {
        var lines = ProcessLines.Read(process);
        try
        {
            var serving = await lines.NextErrorAsync(l => l.StartsWith("brummerq ", StringComparison.Ordinal));
            var settings = await lines.NextErrorAsync(l => l.StartsWith("  settings ", StringComparison.Ordinal));
            using var http = new HttpClient();
            using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), TestContext.Current.CancellationToken);

            Assert.Contains($"serving on http://127.0.0.1:{port}/", serving, StringComparison.Ordinal);
            Assert.Equal("  settings     " + appsettingsPath, settings);
            Assert.True(health.IsSuccessStatusCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string directory, Dictionary<string, string> environment, params string[] arguments)
    {
        using var process = BrummerqProcess.StartWith(directory, environment, arguments);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "BrummerQueue.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no BrummerQueue.slnx above {AppContext.BaseDirectory}");
    }
}
