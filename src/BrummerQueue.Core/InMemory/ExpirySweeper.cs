namespace BrummerQueue.Core.InMemory;

/// <summary>Runs a cleanup pass every interval on a <see cref="TimeProvider"/> timer (so fake time drives it in tests).</summary>
internal sealed class ExpirySweeper : IDisposable
{
    private readonly ITimer _timer;

    public ExpirySweeper(Action sweep, TimeProvider timeProvider, TimeSpan interval)
    {
        _timer = timeProvider.CreateTimer(static state => ((Action)state!)(), sweep, interval, interval);
    }

    public void Dispose() => _timer.Dispose();
}
