using System.Diagnostics;
using System.Globalization;

namespace BrummerQueue.Load;

/// <summary>
/// The server under load: either one this run starts (and stops, by its own process id) or one that
/// already runs, whose id may be given for memory figures. Memory is read from <c>/proc/PID/status</c>.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process? _started;

    private ServerProcess(int? pid, Process? started)
    {
        Pid = pid;
        _started = started;
    }

    public int? Pid { get; }

    public static ServerProcess Attach(int? pid) => new(pid, null);

    /// <summary>Starts <c>brummerq serve</c> from <paramref name="path"/> (an executable, or a dll run with <c>dotnet</c>) on the URL's port and waits for <c>/healthz</c>.</summary>
    public static async Task<ServerProcess> StartAsync(string path, Uri url, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, CancellationToken cancellationToken)
    {
        var info = path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { path } }
            : new ProcessStartInfo(path);
        foreach (var arg in new[] { "serve", "--host", url.Host, "--port", url.Port.ToString(CultureInfo.InvariantCulture) }.Concat(arguments))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var pair in environment)
        {
            var split = pair.IndexOf('=', StringComparison.Ordinal);
            if (split > 0)
            {
                info.Environment[pair[..split]] = pair[(split + 1)..];
            }
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {path}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[server] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process.Id, process);
        try
        {
            await WaitHealthyAsync(url, process, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Resident and peak resident memory in bytes, or null when the process is unknown or gone.</summary>
    public (long Rss, long PeakRss)? ReadMemory()
    {
        if (Pid is not { } pid || !File.Exists($"/proc/{pid}/status"))
        {
            return null;
        }

        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = ParseKilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = ParseKilobytes(line);
            }
        }

        return (rss, peak);
    }

    /// <summary>CPU time (user + system) the server has used so far, or null when unknown; from <c>/proc/PID/stat</c>.</summary>
    public TimeSpan? ReadCpuTime()
    {
        if (Pid is not { } pid || !File.Exists($"/proc/{pid}/stat"))
        {
            return null;
        }

        // Fields after the parenthesized command name; utime and stime are the 14th and 15th fields, in clock ticks (100 Hz on Linux).
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    public async ValueTask DisposeAsync()
    {
        if (_started is { HasExited: false })
        {
            _started.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _started.WaitForExitAsync(timeout.Token);
        }

        _started?.Dispose();
    }

    private static long ParseKilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    private static async Task WaitHealthyAsync(Uri url, Process process, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {process.ExitCode} before it was healthy");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(url, "/healthz"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException("the server was not healthy within 30 s");
    }
}
