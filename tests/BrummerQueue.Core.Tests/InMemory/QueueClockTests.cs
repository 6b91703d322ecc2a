using BrummerQueue.Core.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace BrummerQueue.Core.Tests.InMemory;

public sealed class QueueClockTests
{
    [Fact]
    public void SystemClock_ReadsTheWallClockToWithinAKernelTickAndTheResyncThreshold()
    {
        var clock = new QueueClock(TimeProvider.System);
        for (var i = 0; i < 1_000; i++)
        {
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var now = clock.NowMs();
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            // A kernel tick (at most 10 ms at HZ=100) plus the 20 ms the offset may drift before it is replaced.
            Assert.InRange(now, before - 30, after + 30);
        }
    }

    [Fact]
    public void OtherProviders_AreReadExactlyOnEveryCall()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero));
        var clock = new QueueClock(time);
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), clock.NowMs());

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), clock.NowMs());

        // A jump is followed at once: no offset or resync interval applies to other providers.
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), clock.NowMs());
    }
}
