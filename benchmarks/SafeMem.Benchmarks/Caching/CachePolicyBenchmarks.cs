using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using SafeMem.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// Both eviction policies of <see cref="BoundedCache{TKey, TValue}"/> side by side with BitFaster's W-TinyLFU
/// (<c>ConcurrentLfu</c>) and pseudo-LRU (<c>ConcurrentLru</c>): a hit on 1,000 resident keys (baseline
/// <see cref="ConcurrentDictionary{TKey, TValue}.TryGetValue"/>) and a miss-heavy read-then-write-on-miss loop over a
/// key space ten times the capacity (every miss evicts). Single-threaded; the multi-threaded comparison is the
/// <c>cache-throughput</c> console mode.
/// </summary>
[MemoryDiagnoser]
public class CachePolicyBenchmarks
{
    private const int Capacity = 1_000;
    private const int Accesses = 4_096;

    private int[] _hitKeys = null!;
    private int[] _missKeys = null!;
    private ConcurrentDictionary<int, int> _dictionary = null!;
    private BoundedCache<int, int> _lru = null!;
    private BoundedCache<int, int> _tinyLfu = null!;
    private BoundedCache<int, int> _tinyLfuSynchronous = null!;
    private ConcurrentLfu<int, int> _concurrentLfu = null!;
    private ConcurrentLru<int, int> _concurrentLru = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _hitKeys = [.. Enumerable.Range(0, Capacity).OrderBy(_ => random.Next())];
        _missKeys = ZipfKeys.Generate(Capacity * 10, Accesses);
        _dictionary = new ConcurrentDictionary<int, int>();
        _lru = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "policy-lru", MaximumCount = Capacity });
        _tinyLfu = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "policy-tinylfu", MaximumCount = Capacity, EvictionPolicy = EvictionPolicy.TinyLfu });

        // The internal synchronous mode (every hit reaches the policy, on the reading thread): the cost of the policy's
        // ceiling, labelled as such beside what users get.
        _tinyLfuSynchronous = new BoundedCache<int, int>(new BoundedCacheOptions<int, int>
        {
            Name = "policy-tinylfu-synchronous",
            MaximumCount = Capacity,
            EvictionPolicy = EvictionPolicy.TinyLfu,
            ApplyEveryHit = true,
        });
        _concurrentLfu = new ConcurrentLfu<int, int>(Capacity);
        _concurrentLru = new ConcurrentLru<int, int>(Capacity);
        foreach (int key in _hitKeys)
        {
            _dictionary[key] = key;
            _lru.Set(key, key);
            _tinyLfu.Set(key, key);
            _tinyLfuSynchronous.Set(key, key);
            _concurrentLfu.AddOrUpdate(key, key);
            _concurrentLru.AddOrUpdate(key, key);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _lru.Dispose();
        _tinyLfu.Dispose();
        _tinyLfuSynchronous.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Capacity)]
    public int Hit_ConcurrentDictionary()
    {
        int sum = 0;
        foreach (int key in _hitKeys)
        {
            _dictionary.TryGetValue(key, out int value);
            sum += value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Capacity)]
    public int Hit_BoundedCache_Lru() => Hits(_lru);

    [Benchmark(OperationsPerInvoke = Capacity)]
    public int Hit_BoundedCache_TinyLfu() => Hits(_tinyLfu);

    [Benchmark(OperationsPerInvoke = Capacity)]
    public int Hit_BoundedCache_TinyLfu_SynchronousMode() => Hits(_tinyLfuSynchronous);

    [Benchmark(OperationsPerInvoke = Capacity)]
    public int Hit_BitFaster_ConcurrentLfu()
    {
        int sum = 0;
        foreach (int key in _hitKeys)
        {
            _concurrentLfu.TryGet(key, out int value);
            sum += value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Capacity)]
    public int Hit_BitFaster_ConcurrentLru()
    {
        int sum = 0;
        foreach (int key in _hitKeys)
        {
            _concurrentLru.TryGet(key, out int value);
            sum += value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int MissHeavy_BoundedCache_Lru() => ReadThenWrite(_lru);

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int MissHeavy_BoundedCache_TinyLfu() => ReadThenWrite(_tinyLfu);

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int MissHeavy_BitFaster_ConcurrentLfu()
    {
        int hits = 0;
        foreach (int key in _missKeys)
        {
            if (_concurrentLfu.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                _concurrentLfu.AddOrUpdate(key, key);
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int MissHeavy_BitFaster_ConcurrentLru()
    {
        int hits = 0;
        foreach (int key in _missKeys)
        {
            if (_concurrentLru.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                _concurrentLru.AddOrUpdate(key, key);
            }
        }

        return hits;
    }

    private int Hits(BoundedCache<int, int> cache)
    {
        int sum = 0;
        foreach (int key in _hitKeys)
        {
            cache.TryGet(key, out int value);
            sum += value;
        }

        return sum;
    }

    private int ReadThenWrite(BoundedCache<int, int> cache)
    {
        int hits = 0;
        foreach (int key in _missKeys)
        {
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.Set(key, key);
            }
        }

        return hits;
    }
}
