using System.Diagnostics;

namespace BrummerQueue.Load;

/// <summary>
/// Wakes fixed-rate publishers at their scheduled times with a finer grain than <see cref="Task.Delay(TimeSpan)"/>:
/// one dedicated thread sleeps about a millisecond at a time (<see cref="Thread.Sleep(int)"/>, a plain
/// <c>nanosleep</c>) and completes every wait whose time has come. On this machine a 1 ms
/// <c>Task.Delay</c> wakes about 2 ms later (timer queue plus a pool hop), so publishers paced by it send
/// in bursts of two or more milliseconds' worth of messages; this halves the bursts. Costs one thread
/// waking a thousand times a second while a run lasts.
/// </summary>
internal sealed class Pacer : IDisposable
{
    private readonly Lock _lock = new();

    // Guarded by _lock: waits not yet due, in no particular order (one per publisher at most).
    private readonly List<(long Due, TaskCompletionSource Signal)> _waits = [];
    private readonly Thread _thread;
    private volatile bool _stopped;

    public Pacer()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "pacer", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Completes at or soon after <paramref name="dueTicks"/> (<see cref="Stopwatch"/> ticks), or at once if it has passed.</summary>
    public Task WaitUntilAsync(long dueTicks, CancellationToken cancellationToken)
    {
        if (Stopwatch.GetTimestamp() >= dueTicks)
        {
            return Task.CompletedTask;
        }

        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waits.Add((dueTicks, signal));
        }

        return signal.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _stopped = true;
        _thread.Join();
        lock (_lock)
        {
            foreach (var (_, signal) in _waits)
            {
                signal.TrySetResult();
            }

            _waits.Clear();
        }
    }

    private void Run()
    {
        var due = new List<TaskCompletionSource>();
        while (!_stopped)
        {
            Thread.Sleep(1);
            var now = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                for (var i = _waits.Count - 1; i >= 0; i--)
                {
                    if (_waits[i].Due <= now)
                    {
                        due.Add(_waits[i].Signal);
                        _waits.RemoveAt(i);
                    }
                }
            }

            // Completed outside the lock; the publishers continue on pool threads.
            foreach (var signal in due)
            {
                signal.TrySetResult();
            }

            due.Clear();
        }
    }
}
