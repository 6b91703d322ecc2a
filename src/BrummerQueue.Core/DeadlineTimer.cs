namespace BrummerQueue.Core;

/// <summary>
/// A one-shot timer on the earliest of the deadlines (Unix ms) it is given: <see cref="Schedule"/> moves it earlier, never
/// later; the owner's callback calls <see cref="Reset"/> before it looks for what is due and schedules the next deadline it
/// finds. Made on first use through the injected <see cref="TimeProvider"/> (tests drive it with FakeTimeProvider). Both
/// stores end their leases with it (docs/protocol.md "Acknowledged receive"). Thread-safe: every member under one lock;
/// after <see cref="Dispose"/> it schedules nothing.
/// </summary>
internal sealed class DeadlineTimer(TimeProvider time, Action onDue) : IDisposable
{
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private long _dueMs = long.MaxValue;
    private bool _disposed;

    /// <summary>Sets the timer to fire at <paramref name="deadlineMs"/> unless it already fires earlier.</summary>
    public void Schedule(long deadlineMs, long nowMs)
    {
        lock (_lock)
        {
            if (_disposed || deadlineMs >= _dueMs)
            {
                return;
            }

            _dueMs = deadlineMs;
            _timer ??= time.CreateTimer(static state => ((Action)state!)(), onDue, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(TimeSpan.FromMilliseconds(Math.Max(1, deadlineMs - nowMs)), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Forgets the deadline it was set for, so that the next <see cref="Schedule"/> sets it again.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _dueMs = long.MaxValue;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}
