using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Pooling;

namespace SafeMem.Benchmarks.Pooling;

/// <summary>
/// One rental and its return, on one thread, with the default policy: Microsoft's <see cref="DefaultObjectPool{T}"/>
/// (baseline) against <see cref="TrackedObjectPool{T}"/> with tracking off, sampled at 1/128, and tracking every rental
/// without and with the renting stack.
/// </summary>
[MemoryDiagnoser]
public class TrackedObjectPoolBenchmarks
{
    private readonly DefaultObjectPool<PooledItem> _default = new(new DefaultPooledObjectPolicy<PooledItem>());
    private readonly TrackedObjectPool<PooledItem> _off = Create(0, false);
    private readonly TrackedObjectPool<PooledItem> _sampled = Create(1.0 / 128, false);
    private readonly TrackedObjectPool<PooledItem> _all = Create(1, false);
    private readonly TrackedObjectPool<PooledItem> _allWithStacks = Create(1, true);

    [Benchmark(Baseline = true)]
    public PooledItem DefaultObjectPool_GetReturn() => GetReturn(_default);

    [Benchmark]
    public PooledItem Tracked_Off_GetReturn() => GetReturn(_off);

    [Benchmark]
    public PooledItem Tracked_Sampled128_GetReturn() => GetReturn(_sampled);

    [Benchmark]
    public PooledItem Tracked_All_GetReturn() => GetReturn(_all);

    [Benchmark]
    public PooledItem Tracked_AllWithStacks_GetReturn() => GetReturn(_allWithStacks);

    [GlobalCleanup]
    public void Cleanup()
    {
        _off.Dispose();
        _sampled.Dispose();
        _all.Dispose();
        _allWithStacks.Dispose();
    }

    private static PooledItem GetReturn(ObjectPool<PooledItem> pool)
    {
        PooledItem item = pool.Get();
        pool.Return(item);
        return item;
    }

    private static TrackedObjectPool<PooledItem> Create(double samplingRate, bool stacks)
        => new(new DefaultPooledObjectPolicy<PooledItem>(), new TrackedObjectPoolOptions
        {
            Name = "bench-" + samplingRate.ToString(System.Globalization.CultureInfo.InvariantCulture) + (stacks ? "-stacks" : string.Empty),
            SamplingRate = samplingRate,
            CaptureStackTrace = stacks,
        });

    /// <summary>The pooled object: a small class, as pooled buffers and builders are.</summary>
    public sealed class PooledItem
    {
        public int Value { get; set; }
    }
}
