using BenchmarkDotNet.Attributes;
using SafeMem.Telemetry;

namespace SafeMem.Benchmarks.Telemetry;

/// <summary>
/// The cost of one hot-path count: SafeMem's striped counter against a plain interlocked field (the baseline) and
/// against doing nothing, single-threaded (where the striped counter never inflates).
/// </summary>
[MemoryDiagnoser]
public class StripedCounterBenchmarks
{
    private readonly StripedCounter _striped = new();
    private long _plain;

    [Benchmark(Baseline = true)]
    public void InterlockedIncrement() => Interlocked.Increment(ref _plain);

    [Benchmark]
    public void StripedIncrement() => _striped.Increment();

    [Benchmark]
    public long StripedSum() => _striped.Sum();
}
