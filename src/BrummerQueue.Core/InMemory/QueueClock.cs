namespace BrummerQueue.Core.InMemory;

/// <summary>
/// The queue's "now" in Unix milliseconds, read on every send, receive and subscription read.
/// With <see cref="TimeProvider.System"/> it reads the kernel's coarse tick count
/// (<see cref="Environment.TickCount64"/>, about 6 ns here against 26 ns for
/// <see cref="TimeProvider.GetUtcNow"/>) plus an offset to the wall clock; the offset is measured
/// again at most once a second and replaced when the wall clock has moved against the tick count by
/// more than <see cref="ResyncThresholdMs"/> (clock adjustments, a suspended laptop). So the queue's
/// time is the wall clock to within a kernel tick (1–4 ms) — ample for TTLs in whole seconds — and
/// does not jitter backwards on every re-measurement. Any other provider, such as the tests'
/// FakeTimeProvider, is read exactly on every call.
/// </summary>
internal sealed class QueueClock
{
    private const long ResyncIntervalMs = 1_000;
    private const long ResyncThresholdMs = 20;

    private readonly TimeProvider _time;
    private readonly bool _coarse;

    // Written by whichever thread re-measures (a benign race: every value written is a valid offset and
    // deadline), read by all. Volatile so that a re-measurement is seen promptly.
    private long _offsetMs;
    private long _nextResyncTick;

    public QueueClock(TimeProvider time)
    {
        _time = time;
        _coarse = ReferenceEquals(time, TimeProvider.System);
        if (_coarse)
        {
            Resync(Environment.TickCount64, force: true);
        }
    }

    /// <summary>The provider behind this clock, for timers and timeouts.</summary>
    public TimeProvider Provider => _time;

    /// <summary>The current time in Unix milliseconds.</summary>
    public long NowMs()
    {
        if (!_coarse)
        {
            return _time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        var tick = Environment.TickCount64;
        if (tick >= Volatile.Read(ref _nextResyncTick))
        {
            Resync(tick, force: false);
        }

        return tick + Volatile.Read(ref _offsetMs);
    }

    private void Resync(long tick, bool force)
    {
        var offset = _time.GetUtcNow().ToUnixTimeMilliseconds() - tick;
        if (force || Math.Abs(offset - Volatile.Read(ref _offsetMs)) > ResyncThresholdMs)
        {
            Volatile.Write(ref _offsetMs, offset);
        }

        Volatile.Write(ref _nextResyncTick, tick + ResyncIntervalMs);
    }
}
