using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BrummerQueue.Server.Tests.Mcp;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary><c>brummerq serve</c> as a real process: start failures are one clear line on stderr.</summary>
public sealed class ServeProcessTests
{
    [Fact]
    public async Task Serve_BrokenAppsettingsJson_OneLineNamingFileAndPositionExit2()
    {
        var directory = Directory.CreateTempSubdirectory("brummerq-cfg-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "appsettings.json"), "{broken", TestContext.Current.CancellationToken);

            var (exitCode, stdout, stderr) = await RunToExitAsync(directory.FullName, "serve", "--port", "0");

            Assert.Equal(2, exitCode);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"brummerq: {Path.Combine(directory.FullName, "appsettings.json")} is not valid JSON (at line 1, byte 1)", line, StringComparison.Ordinal);
            Assert.Equal(string.Empty, stdout);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Serve_PortInUse_OneLineWithoutStackTrace()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var (exitCode, stdout, stderr) = await RunToExitAsync(null, "serve", "--port", port.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"address http://127.0.0.1:{port}: address already in use", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_TokenWithTraceLogging_StartupAndRequestLogsNeverShowIt()
    {
        const string Token = "pr0cess-t0ken-77";
        var port = BrummerqProcess.FreePort();
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = BrummerqProcess.StartWith(
            null,
            new()
            {
                ["Logging__LogLevel__Default"] = "Trace",
                ["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace",
                ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            },
            "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--token", Token);
        var listening = new TaskCompletionSource();
        var served = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            using var http = new HttpClient();
            foreach (var token in new[] { Token, Token + "x" })
            {
                (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/api/stats?token={token}"), TestContext.Current.CancellationToken)).Dispose();
                (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/__brummer_ws__?token={token}"), TestContext.Current.CancellationToken)).Dispose();
            }

            (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/api/served"), TestContext.Current.CancellationToken)).Dispose();
            await served.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Contains(lines, l => l.Contains("Now listening on", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("t0ken", StringComparison.Ordinal));

        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lines.Enqueue(line);
            if (line.Contains("Now listening on", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }

            // The last request's path in the routing log (Debug): every earlier line has been written.
            if (line.Contains("/api/served", StringComparison.Ordinal))
            {
                served.TrySetResult();
            }
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(string? workingDirectory, params string[] arguments)
    {
        using var process = BrummerqProcess.StartIn(workingDirectory, arguments);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }
}
