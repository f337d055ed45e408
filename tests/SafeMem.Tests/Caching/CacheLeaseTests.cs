using SafeMem.Caching;
using Resource = SafeMem.Tests.Caching.BoundedCacheFaultTests.Resource;

namespace SafeMem.Tests.Caching;

/// <summary>DisposeRemovedValues: exactly-once disposal for every way out, deferred while leased.</summary>
public abstract class CacheLeaseTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private BoundedCache<int, Resource> NewCache(int maximumCount = 2, Action<BoundedCacheOptions<int, Resource>>? configure = null)
    {
        var options = new BoundedCacheOptions<int, Resource> { EvictionPolicy = Policy, MaximumCount = maximumCount, DisposeRemovedValues = true };
        configure?.Invoke(options);
        return new BoundedCache<int, Resource>(options);
    }

    [Fact]
    public void DisposeRemovedValues_EveryReason_DisposesExactlyOnce()
    {
        using BoundedCache<int, Resource> cache = NewCache(configure: o => o.MaximumWeight = 5);
        Resource evicted = new(), replaced = new(), removed = new(), cleared = new(), disposedWithCache = new();

        cache.Set(1, evicted);
        cache.Set(2, replaced);

        // Read 2 so that both policies evict 1: it is then the least recent and the less frequent.
        cache.TryGet(2, out _);
        cache.Set(3, new Resource());
        Assert.Equal(1, evicted.DisposeCount);

        cache.Set(2, new Resource());
        Assert.Equal(1, replaced.DisposeCount);

        cache.Set(4, removed);
        cache.TryRemove(4);
        Assert.Equal(1, removed.DisposeCount);

        cache.Set(5, cleared);
        cache.Clear();
        Assert.Equal(1, cleared.DisposeCount);

        cache.Set(6, disposedWithCache);
        cache.Dispose();
        cache.Dispose();
        Assert.Equal(1, disposedWithCache.DisposeCount);
        Assert.All([evicted, replaced, removed, cleared], r => Assert.Equal(1, r.DisposeCount));
    }

    [Fact]
    public void DisposeRemovedValues_Rejected_DisposesTheRejectedValue()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 1,
            Weigher = static (_, _) => 2,
            DisposeRemovedValues = true,
        });
        var heavy = new Resource();

        cache.Set(1, heavy);

        Assert.Equal(1, heavy.DisposeCount);
    }

    [Fact]
    public void DisposeRemovedValues_Expired_Disposes()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, Resource> cache = NewCache(configure: o => (o.ExpireAfterWrite, o.TimeProvider) = (TimeSpan.FromSeconds(1), clock));
        var resource = new Resource();
        cache.Set(1, resource);
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.False(cache.TryGet(1, out _));
        Assert.Equal(1, resource.DisposeCount);
    }

    [Fact]
    public void DisposeRemovedValues_SameInstanceSetAgain_NotDisposed()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var resource = new Resource();
        cache.Set(1, resource);

        cache.Set(1, resource);

        Assert.Equal(0, resource.DisposeCount);
        Assert.True(cache.ContainsKey(1));
    }

    [Fact]
    public void TryRemoveWithValue_HandsOwnershipToCaller()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var resource = new Resource();
        cache.Set(1, resource);

        Assert.True(cache.TryRemove(1, out Resource? value));

        Assert.Same(resource, value);
        Assert.Equal(0, resource.DisposeCount);
    }

    [Fact]
    public void DisposeRemovedValuesOff_NothingDisposed()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource> { EvictionPolicy = Policy, MaximumCount = 1 });
        var resource = new Resource();
        cache.Set(1, resource);
        cache.Set(2, new Resource());
        cache.Clear();

        Assert.Equal(0, resource.DisposeCount);
    }

    [Fact]
    public void TryLease_EntryEvictedWhileLeased_DisposalDeferredUntilLastLeaseEnds()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumCount: 1);
        var resource = new Resource();
        cache.Set(1, resource);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? first));
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? second));
        Assert.Same(resource, first.Value);

        cache.Set(2, new Resource());
        Assert.Equal(0, resource.DisposeCount);

        first.Dispose();
        first.Dispose();
        Assert.Equal(0, resource.DisposeCount);

        second.Dispose();
        Assert.Equal(1, resource.DisposeCount);
    }

    [Fact]
    public void TryLease_LeaseReleasedWhileEntryStays_ValueNotDisposed()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var resource = new Resource();
        cache.Set(1, resource);

        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));
        lease.Dispose();

        Assert.Equal(0, resource.DisposeCount);
        cache.TryRemove(1);
        Assert.Equal(1, resource.DisposeCount);
    }

    [Fact]
    public void TryLease_CacheDisposedWhileLeased_DisposedOnRelease()
    {
        BoundedCache<int, Resource> cache = NewCache();
        var resource = new Resource();
        cache.Set(1, resource);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));

        cache.Dispose();
        Assert.Equal(0, resource.DisposeCount);

        lease.Dispose();
        Assert.Equal(1, resource.DisposeCount);
    }

    [Fact]
    public void TryLease_Miss_ReturnsFalseAndCountsMiss()
    {
        using BoundedCache<int, Resource> cache = NewCache();

        Assert.False(cache.TryLease(1, out CacheLease<Resource>? lease));
        Assert.Null(lease);
        Assert.Equal(1, cache.GetStatistics().Misses);
    }

    [Fact]
    public void TryLease_WithoutDisposal_StillReturnsValue()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 1 });
        cache.Set(1, "a");

        Assert.True(cache.TryLease(1, out CacheLease<string>? lease));
        using (lease)
        {
            Assert.Equal("a", lease.Value);
        }
    }

    [Fact]
    public void GetOrAdd_AfterDispose_FactoryValueNeverLeaks()
    {
        BoundedCache<int, Resource> cache = NewCache();
        Resource? created = null;
        var started = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var loader = Task.Run(() => cache.GetOrAdd(1, _ =>
        {
            started.Set();
            release.Wait();
            return created = new Resource();
        }));
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));

        cache.Dispose();
        release.Set();

        Assert.Throws<ObjectDisposedException>(() => loader.GetAwaiter().GetResult());
        Assert.NotNull(created);
        Assert.Equal(1, created.DisposeCount);
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : CacheLeaseTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : CacheLeaseTests(EvictionPolicy.TinyLfu);
}
