using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using SafeMem.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// What an exactly counted hit costs at the least: <see cref="ConcurrentDictionary{TKey, TValue}.TryGetValue"/> alone,
/// then with the cheapest exact hit counters a thread-safe cache can keep (a thread-static counter, as
/// <see cref="RecencyClock"/> uses, and one shared interlocked counter), then <see cref="BoundedCache{TKey, TValue}"/>,
/// which also records recency. Same 1,000 keys in the same shuffled order as <see cref="CacheHitBenchmarks"/>.
/// </summary>
/// <remarks>
/// The counters here count nothing a reader could collect (a real per-thread counter must also be found per cache);
/// they only put a floor under the cost of "hits + misses = lookups, exactly, with no lock".
/// </remarks>
[MemoryDiagnoser]
public class CacheHitFloorBenchmarks
{
    private const int Entries = 1_000;

    [ThreadStatic]
    private static long t_hits;

    private int[] _keys = null!;
    private ConcurrentDictionary<int, int> _dictionary = null!;
    private BoundedCache<int, int> _cache = null!;
    private long _sharedHits;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _keys = [.. Enumerable.Range(0, Entries).OrderBy(_ => random.Next())];
        _dictionary = new ConcurrentDictionary<int, int>();
        _cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "hit-floor-benchmark", MaximumCount = Entries * 2 });
        foreach (int key in _keys)
        {
            _dictionary[key] = key;
            _cache.Set(key, key);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries)]
    public int ConcurrentDictionary_TryGetValue()
    {
        int sum = 0;
        foreach (int key in _keys)
        {
            _dictionary.TryGetValue(key, out int value);
            sum += value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public int ConcurrentDictionary_TryGetValue_ThreadStaticCount()
    {
        int sum = 0;
        foreach (int key in _keys)
        {
            if (_dictionary.TryGetValue(key, out int value))
            {
                t_hits++;
            }

            sum += value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public int ConcurrentDictionary_TryGetValue_InterlockedCount()
    {
        int sum = 0;
        foreach (int key in _keys)
        {
            if (_dictionary.TryGetValue(key, out int value))
            {
                Interlocked.Increment(ref _sharedHits);
            }

            sum += value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public int BoundedCache_TryGet()
    {
        int sum = 0;
        foreach (int key in _keys)
        {
            _cache.TryGet(key, out int value);
            sum += value;
        }

        return sum;
    }
}
