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
