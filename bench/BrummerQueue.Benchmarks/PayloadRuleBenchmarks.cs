using BenchmarkDotNet.Attributes;
using BrummerQueue.Core;

namespace BrummerQueue.Benchmarks;

/// <summary>
/// The payload rule alone on the send benchmark's 46-byte payload: the full reader pass (the baseline,
/// what every send paid before the fast pass) against <c>PayloadRule.Check</c>, which takes the fast
/// pass for a plain payload (ASCII without a backslash). Diagnostic: it explains the send figure.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PayloadRuleBenchmarks
{
    private readonly byte[] _payload = BenchData.SmallPayload.Utf8.ToArray();

    [Benchmark(Baseline = true, Description = "full pass")]
    public void FullPass() => PayloadRule.CheckFull(_payload, 64);

    [Benchmark(Description = "check (fast pass)")]
    public void Check() => PayloadRule.Check(_payload, 64);
}
