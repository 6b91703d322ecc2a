using System.Diagnostics;
using System.Threading.Channels;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>The lines a started process writes on stderr (and stdout), for a test to await one with a time limit.</summary>
internal sealed class ProcessLines
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly Channel<string> _errors = Channel.CreateUnbounded<string>();
    private readonly List<string> _seen = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _all = new();

    private ProcessLines(Process process)
    {
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                _all.Enqueue(line);
                _errors.Writer.TryWrite(line);
            }
            else
            {
                _errors.Writer.TryComplete();
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                _all.Enqueue(line);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    /// <summary>Every line read so far, from both streams, in arrival order.</summary>
    public IReadOnlyCollection<string> All => _all;

    /// <summary>The stderr lines awaited so far (<see cref="NextErrorAsync"/>), in order.</summary>
    public IReadOnlyList<string> SeenErrors => _seen;

    /// <summary>Starts reading <paramref name="process"/>'s redirected stdout and stderr.</summary>
    public static ProcessLines Read(Process process) => new(process);

    /// <summary>The next stderr line that matches <paramref name="match"/>; fails when none comes within 60 s or stderr ends.</summary>
    public async Task<string> NextErrorAsync(Func<string, bool> match)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_timeout);
        try
        {
            while (await _errors.Reader.WaitToReadAsync(timeout.Token))
            {
                while (_errors.Reader.TryRead(out var line))
                {
                    _seen.Add(line);
                    if (match(line))
                    {
                        return line;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"no matching stderr line within {s_timeout}; lines:\n{string.Join('\n', _all)}");
        }

        Assert.Fail($"stderr ended without a matching line; lines:\n{string.Join('\n', _all)}");
        return string.Empty;
    }
}
