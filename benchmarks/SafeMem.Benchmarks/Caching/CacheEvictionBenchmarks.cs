using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;
using SafeMem.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// A miss-heavy workload that forces eviction: uniformly random keys over a key space ten times the cache's capacity
/// (about 90% misses), each a read and, on a miss, a write. Reports ns per access and bytes allocated per access for
/// <see cref="BoundedCache{TKey, TValue}"/>, <see cref="MemoryCache"/> with a <c>SizeLimit</c> (the baseline), the
/// naive lock + <see cref="LinkedList{T}"/> LRU, and BitFaster.Caching's <see cref="ConcurrentLru{K, V}"/>,
/// <see cref="FastConcurrentLru{K, V}"/> and <see cref="ConcurrentLfu{K, V}"/>.
/// </summary>
/// <remarks>
/// MemoryCache gets keys and values boxed once in setup, so it pays no boxing per access. It does not evict when
/// full: it rejects the write and compacts on the thread pool later, so its "hits" here come from whatever the last
/// compaction left. ConcurrentLfu, as constructed by default, applies its buffered reads and writes (and evicts) on the
/// thread pool: that work runs beside the measured thread, not in its time.
/// </remarks>
[MemoryDiagnoser]
public class CacheEvictionBenchmarks
{
    private const int Capacity = 1_000;
    private const int KeySpace = Capacity * 10;
    private const int Accesses = 4_096;

    private int[] _keys = null!;
    private object[] _boxedKeys = null!;
    private BoundedCache<int, int> _cache = null!;
    private MemoryCache _memoryCache = null!;
    private NaiveLruCache<int, int> _naive = null!;
    private ConcurrentLru<int, int> _concurrentLru = null!;
    private FastConcurrentLru<int, int> _fastConcurrentLru = null!;
    private ConcurrentLfu<int, int> _concurrentLfu = null!;
    private MemoryCacheEntryOptions _sizeOne = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _keys = new int[Accesses];
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i] = random.Next(KeySpace);
        }

        var boxes = new object[KeySpace];
        for (int i = 0; i < boxes.Length; i++)
        {
            boxes[i] = i;
        }

        _boxedKeys = Array.ConvertAll(_keys, key => boxes[key]);
        _cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "eviction-benchmark", MaximumCount = Capacity });
        _memoryCache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Capacity });
        _naive = new NaiveLruCache<int, int>(Capacity);
        _concurrentLru = new ConcurrentLru<int, int>(Capacity);
        _fastConcurrentLru = new FastConcurrentLru<int, int>(Capacity);
        _concurrentLfu = new ConcurrentLfu<int, int>(Capacity);
        _sizeOne = new MemoryCacheEntryOptions { Size = 1 };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _memoryCache.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Accesses)]
    public int MemoryCache_ReadThenWriteOnMiss()
    {
        int hits = 0;
        foreach (object key in _boxedKeys)
        {
            if (_memoryCache.TryGetValue(key, out _))
            {
                hits++;
            }
            else
            {
                _memoryCache.Set(key, key, _sizeOne);
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int BoundedCache_ReadThenWriteOnMiss()
    {
        int hits = 0;
        foreach (int key in _keys)
        {
            if (_cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                _cache.Set(key, key);
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int NaiveLru_ReadThenWriteOnMiss()
    {
        int hits = 0;
        foreach (int key in _keys)
        {
            if (_naive.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                _naive.Set(key, key);
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int BitFaster_ConcurrentLru_ReadThenWriteOnMiss()
    {
        int hits = 0;
        foreach (int key in _keys)
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

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int BitFaster_FastConcurrentLru_ReadThenWriteOnMiss()
    {
        int hits = 0;
        foreach (int key in _keys)
        {
            if (_fastConcurrentLru.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                _fastConcurrentLru.AddOrUpdate(key, key);
            }
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = Accesses)]
    public int BitFaster_ConcurrentLfu_ReadThenWriteOnMiss()
    {
        int hits = 0;
        foreach (int key in _keys)
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
}
