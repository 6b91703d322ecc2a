using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

[assembly: AssemblyFixture(typeof(BrummerQueue.Redis.Tests.RedisServerFixture))]

namespace BrummerQueue.Redis.Tests;

/// <summary>
/// One real <c>redis-server</c> for the test assembly, on a free loopback port, without persistence, started as a
/// daemon with a pid file and stopped by that pid. Each test uses a fresh key prefix, so tests share the server without
/// seeing each other's keys. Where <c>/usr/bin/redis-server</c> (or <c>BRUMMERQ_REDIS_SERVER</c>) is missing the tests
/// skip with the reason, unless <c>BRUMMERQ_REQUIRE_ALL_TESTS=1</c> (set by CI), where they fail.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private const string DefaultServer = "/usr/bin/redis-server";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "brummerq-redis-" + Guid.NewGuid().ToString("N"));
    private string? _unavailable;
    private ConnectionMultiplexer? _connection;

    /// <summary>The server's port.</summary>
    public int Port { get; private set; }

    /// <summary>The StackExchange.Redis configuration string of the server.</summary>
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000";

    /// <summary>The path of redis-server.</summary>
    public string ServerPath { get; } = Environment.GetEnvironmentVariable("BRUMMERQ_REDIS_SERVER") ?? DefaultServer;

    /// <summary>A connection shared by tests that need no connection of their own.</summary>
    public ConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("redis-server is not running");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ServerPath))
        {
            _unavailable = $"redis-server not found at {ServerPath} (install Debian's redis-server package or set BRUMMERQ_REDIS_SERVER)";
            return;
        }

        Directory.CreateDirectory(_directory);
        Port = FreePort();
        await StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(Configuration);
    }

    /// <summary>Skips (or, under <c>BRUMMERQ_REQUIRE_ALL_TESTS=1</c>, fails) the calling test when there is no redis-server.</summary>
    public void RequireServer()
    {
        if (_unavailable is null)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("BRUMMERQ_REQUIRE_ALL_TESTS") == "1")
        {
            Assert.Fail($"{_unavailable}; BRUMMERQ_REQUIRE_ALL_TESTS=1 makes this a failure");
        }

        Assert.Skip(_unavailable);
    }

    /// <summary>A key prefix no other test uses.</summary>
    public static string FreshPrefix() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    /// <summary>Starts redis-server on <see cref="Port"/> (again, after <see cref="StopAsync"/>) and waits until it answers.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(ServerPath)
        {
            ArgumentList =
            {
                "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty,
                "--appendonly", "no", "--daemonize", "yes", "--pidfile", PidFile, "--dir", _directory, "--logfile", Path.Combine(_directory, "redis.log"),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (var process = Process.Start(start)!)
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20));
        }

        // Bounded: 200 tries of a connect, each refused at once while the server is not yet listening.
        for (var i = 0; i < 200; i++)
        {
            if (File.Exists(PidFile) && await AnswersAsync())
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new InvalidOperationException($"redis-server did not start on port {Port}; see {_directory}/redis.log");
    }

    /// <summary>Stops redis-server by its pid (losing every key: it runs without persistence) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        if (!File.Exists(PidFile))
        {
            return;
        }

        var pid = int.Parse(File.ReadAllText(PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (ArgumentException)
        {
            // Already gone.
        }

        File.Delete(PidFile);
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. <c>STOP</c>, <c>CONT</c>) to the running redis-server, by its pid: a stopped one keeps its connections open but answers nothing.</summary>
    public async Task SignalAsync(string signal)
    {
        var pid = File.ReadAllText(PidFile).Trim();
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid } })!;
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, kill.ExitCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        await StopAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string PidFile => Path.Combine(_directory, "redis.pid");

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            return read > 0 && buffer[0] == (byte)'+';
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
