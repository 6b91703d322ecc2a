using BenchmarkDotNet.Running;
using BrummerQueue.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(PushFrameBenchmarks).Assembly).Run(args);
