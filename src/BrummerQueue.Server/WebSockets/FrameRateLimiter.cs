namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Counts a connection's frames in fixed one-second windows. Used by the connection's reader only
/// (not thread-safe).
/// </summary>
internal sealed class FrameRateLimiter(int framesPerSecond, TimeProvider time)
{
    private long _windowStart = time.GetTimestamp();
    private int _count;

    /// <summary>Counts one frame; false when the window already holds <c>framesPerSecond</c> frames.</summary>
    public bool TryAcquire()
    {
        var now = time.GetTimestamp();
        if (now - _windowStart >= time.TimestampFrequency)
        {
            _windowStart = now;
            _count = 0;
        }

        return ++_count <= framesPerSecond;
    }
}
