using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ModelContextProtocol.Client;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>Starts the real built <c>brummerq</c> executable (copied next to the tests) for process tests.</summary>
internal static class BrummerqProcess
{
    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "brummerq.dll");

    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts <c>brummerq mcp --port</c> <paramref name="port"/> (with <paramref name="environment"/> variables set)
    /// and connects the SDK's stdio client to it (with <paramref name="options"/>, e.g. notification handlers) on
    /// <paramref name="protocolVersion"/> (default 2025-11-25, with <c>resources/subscribe</c>; null: the SDK's
    /// preference, 2026-07-28) unless the options name a revision; <paramref name="arguments"/> are added to the command line.
    /// </summary>
    public static async Task<McpClient> ConnectStdioAsync(int port, List<string>? stderr = null, Dictionary<string, string?>? environment = null, McpClientOptions? options = null, string? protocolVersion = "2025-11-25", string[]? arguments = null)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "dotnet",
            Arguments = [DllPath, "mcp", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments ?? []],
            EnvironmentVariables = environment,
            Name = "brummerq",
            ShutdownTimeout = TimeSpan.FromSeconds(10),
            StandardErrorLines = line =>
            {
                if (stderr is not null)
                {
                    lock (stderr)
                    {
                        stderr.Add(line);
                    }
                }
            },
        });
        options ??= new McpClientOptions();
        options.InitializationTimeout = TimeSpan.FromSeconds(30);
        options.ProtocolVersion ??= protocolVersion;
        return await McpClient.CreateAsync(
            transport,
            options,
            cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Starts <c>dotnet brummerq.dll</c> with redirected standard streams.</summary>
    public static Process Start(params string[] arguments) => StartIn(null, arguments);

    /// <summary>Starts <c>dotnet brummerq.dll</c> in <paramref name="workingDirectory"/> (where it looks for appsettings.json).</summary>
    public static Process StartIn(string? workingDirectory, params string[] arguments) => StartWith(workingDirectory, null, arguments);

    /// <summary>Starts <c>dotnet brummerq.dll</c> in <paramref name="workingDirectory"/> with <paramref name="environment"/> variables added.</summary>
    public static Process StartWith(string? workingDirectory, Dictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? string.Empty,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
    }
}
