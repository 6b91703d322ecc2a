using BenchmarkDotNet.Attributes;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// Diagnostic: what one clock read costs. The engine reads <c>TimeProvider.GetUtcNow()</c> once per send
/// and once per subscription read (TTL checks, idle tracking); the profiles show it as the largest single
/// item of those paths. Compares that read (the baseline) with the monotonic timestamp and with the coarse
/// tick count (<see cref="Environment.TickCount64"/>, millisecond-granular).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class ClockBenchmarks
{
    private readonly TimeProvider _time = TimeProvider.System;

    // Added to the tick count so that every variant returns a value built from instance state, as a clock offset would be.
    private readonly long _tickOffset = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - Environment.TickCount64;

    [Benchmark(Baseline = true, Description = "TimeProvider.System.GetUtcNow() in Unix ms")]
    public long UtcNowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    [Benchmark(Description = "TimeProvider.System.GetTimestamp()")]
    public long Timestamp() => _time.GetTimestamp();

    [Benchmark(Description = "Environment.TickCount64 + offset")]
    public long TickCount() => Environment.TickCount64 + _tickOffset;
}
