using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// A throw-away <c>redis-server</c> for <see cref="RedisStoreBenchmarks"/>: loopback, a free port, no persistence
/// (<c>--save '' --appendonly no</c>), stopped by its pid. <c>BRUMMERQ_REDIS_SERVER</c> names another binary.
/// </summary>
internal sealed class RedisServerProcess : IDisposable
{
    private readonly Process _process;

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Starts the server and waits (at most 10 s, one try per 50 ms) until it answers PING.</summary>
    public static RedisServerProcess Start()
    {
        var port = FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("BRUMMERQ_REDIS_SERVER") ?? "redis-server")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var server = new RedisServerProcess(Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start"), port);
        server._process.OutputDataReceived += static (_, _) => { };
        server._process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = ConnectionMultiplexer.Connect($"{server.Configuration},connectTimeout=500");
                probe.GetDatabase().Ping();
                return server;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
