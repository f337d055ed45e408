using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

public sealed class BoundedCacheTests
{
    private static BoundedCache<int, string> NewCache(int maximumCount = 3, Action<BoundedCacheOptions<int, string>>? configure = null)
    {
        var options = new BoundedCacheOptions<int, string> { MaximumCount = maximumCount };
        configure?.Invoke(options);
        return new BoundedCache<int, string>(options);
    }

    [Fact]
    public void TryGet_AfterSet_ReturnsValue()
    {
        using BoundedCache<int, string> cache = NewCache();
        cache.Set(1, "one");

        Assert.True(cache.TryGet(1, out string? value));
        Assert.Equal("one", value);
        Assert.False(cache.TryGet(2, out _));
    }

    [Fact]
    public void Set_OverCount_EvictsLeastRecentlyUsed()
    {
        using BoundedCache<int, string> cache = NewCache();
        var removed = new List<(int, RemovalReason)>();
        cache.EntryRemoved += (_, e) => removed.Add((e.Key, e.Reason));
        cache.Set(1, "a");
        cache.Set(2, "b");
        cache.Set(3, "c");
        Assert.True(cache.TryGet(1, out _));

        cache.Set(4, "d");

        Assert.Equal([(2, RemovalReason.Evicted)], removed);
        Assert.Equal(3, cache.Count);
        Assert.False(cache.ContainsKey(2));
    }

    [Fact]
    public void GetOrAdd_Miss_RunsFactoryOnceThenHits()
    {
        using BoundedCache<int, string> cache = NewCache();
        int calls = 0;

        string first = cache.GetOrAdd(1, k => { calls++; return "v" + k; });
        string second = cache.GetOrAdd(1, k => { calls++; return "w" + k; });

        Assert.Equal("v1", first);
        Assert.Equal("v1", second);
        Assert.Equal(1, calls);
        CacheStatistics stats = cache.GetStatistics();
        Assert.Equal(1, stats.Hits);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(1, stats.FactoryCalls);
    }

    [Fact]
    public async Task GetOrAddAsync_Miss_AwaitsFactory()
    {
        using BoundedCache<int, string> cache = NewCache();

        string value = await cache.GetOrAddAsync(1, async (k, ct) => { await Task.Yield(); return "v" + k; });

        Assert.Equal("v1", value);
        Assert.True(cache.TryGet(1, out _));
    }

    [Fact]
    public void Weight_OverBound_EvictsAndRejectsOversize()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            MaximumWeight = 10,
            Weigher = static (_, v) => v.Length,
        });
        cache.Set(1, "aaaa");
        cache.Set(2, "bbbb");
        cache.Set(3, "cccc");

        Assert.Equal(8, cache.Weight);
        Assert.False(cache.ContainsKey(1));

        cache.Set(4, new string('x', 11));
        Assert.Equal(8, cache.Weight);
        Assert.Equal(1, cache.GetStatistics().Rejections);
    }

    [Fact]
    public void Dispose_ThenAnyMember_Throws()
    {
        BoundedCache<int, string> cache = NewCache();
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.TryGet(1, out _));
        Assert.Throws<ObjectDisposedException>(() => cache.Set(1, "x"));
        Assert.Throws<ObjectDisposedException>(() => cache.Count);
    }

    [Fact]
    public void ExpireAfterWrite_PastDeadline_NotReturned()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, string> cache = NewCache(configure: o =>
        {
            o.ExpireAfterWrite = TimeSpan.FromSeconds(10);
            o.TimeProvider = clock;
        });
        cache.Set(1, "a");
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.False(cache.TryGet(1, out _));
        Assert.Equal(0, cache.Count);
    }
}
