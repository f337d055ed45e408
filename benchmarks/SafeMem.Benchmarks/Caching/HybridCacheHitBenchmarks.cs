using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// HybridCache's L1 hit (<c>GetOrCreateAsync</c> answered from the local cache), with
/// the default <see cref="MemoryCache"/> as L1 (the baseline, as <c>AddHybridCache()</c> registers it) and with
/// SafeMem's <see cref="BoundedMemoryCache"/> (as <c>AddSafeMemHybridCache</c> registers it), for an immutable value
/// (a string: HybridCache hands out the cached instance) and a mutable one (a byte[]: HybridCache keeps the serialized
/// bytes and hands out a fresh copy on every hit).
/// </summary>
/// <remarks>
/// No distributed cache: an L1 hit never touches it (nor the circuit breaker around it), so this is also the cost of
/// a hit while Redis is down. 1,000 entries of 100 bytes per value kind, well within either L1's bound, read in a
/// fixed shuffled order; figures are per read.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HybridCacheHitBenchmarks
{
    private const int Entries = 1_000;

    private string[] _stringKeys = null!;
    private string[] _byteKeys = null!;
    private ServiceProvider _memoryCacheNode = null!;
    private ServiceProvider _boundedNode = null!;
    private HybridCache _overMemoryCache = null!;
    private HybridCache _overBoundedMemoryCache = null!;

    [GlobalSetup]
    public void Setup()
    {
        var plain = new ServiceCollection();
        plain.AddHybridCache();
        _memoryCacheNode = plain.BuildServiceProvider();
        _overMemoryCache = _memoryCacheNode.GetRequiredService<HybridCache>();

        var bounded = new ServiceCollection();
        bounded.AddSafeMemHybridCache(o =>
        {
            o.Name = "benchmark-l1";
            o.MaximumWeight = 64 * 1024 * 1024;
        });
        _boundedNode = bounded.BuildServiceProvider();
        _overBoundedMemoryCache = _boundedNode.GetRequiredService<HybridCache>();

        if (_memoryCacheNode.GetRequiredService<IMemoryCache>() is not MemoryCache || _boundedNode.GetRequiredService<IMemoryCache>() is not BoundedMemoryCache)
        {
            throw new InvalidOperationException("The L1s are not the ones this benchmark compares.");
        }

        var random = new Random(42);
        _stringKeys = [.. Enumerable.Range(0, Entries).Select(i => "s:" + i).OrderBy(_ => random.Next())];
        _byteKeys = [.. Enumerable.Range(0, Entries).Select(i => "b:" + i).OrderBy(_ => random.Next())];
        foreach (HybridCache cache in new[] { _overMemoryCache, _overBoundedMemoryCache })
        {
            _ = ReadAllStrings(cache);
            _ = ReadAllBytes(cache);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _memoryCacheNode.Dispose();
        _boundedNode.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries)]
    [BenchmarkCategory("string")]
    public int MemoryCache_String() => ReadAllStrings(_overMemoryCache);

    [Benchmark(OperationsPerInvoke = Entries)]
    [BenchmarkCategory("string")]
    public int BoundedMemoryCache_String() => ReadAllStrings(_overBoundedMemoryCache);

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries)]
    [BenchmarkCategory("byte[]")]
    public int MemoryCache_Bytes() => ReadAllBytes(_overMemoryCache);

    [Benchmark(OperationsPerInvoke = Entries)]
    [BenchmarkCategory("byte[]")]
    public int BoundedMemoryCache_Bytes() => ReadAllBytes(_overBoundedMemoryCache);

    private int ReadAllStrings(HybridCache cache)
    {
        int length = 0;
        foreach (string key in _stringKeys)
        {
            length += ReadString(cache, key).Length;
        }

        return length;
    }

    private int ReadAllBytes(HybridCache cache)
    {
        int length = 0;
        foreach (string key in _byteKeys)
        {
            length += ReadBytes(cache, key).Length;
        }

        return length;
    }

    // A hit completes synchronously; GetAwaiter().GetResult() on the ValueTask costs nothing then.
    private static string ReadString(HybridCache cache, string key)
        => cache.GetOrCreateAsync(key, static _ => ValueTask.FromResult(new string('s', 100))).GetAwaiter().GetResult();

    private static byte[] ReadBytes(HybridCache cache, string key)
        => cache.GetOrCreateAsync(key, static _ => ValueTask.FromResult(new byte[100])).GetAwaiter().GetResult();
}
