using SafeMem.Caching;
using Resource = SafeMem.Tests.Caching.BoundedCacheFaultTests.Resource;

namespace SafeMem.Tests.Caching;

/// <summary>
/// DisposeRemovedValues counts holders per value instance: a value is disposed exactly once, when no entry and no lease
/// holds it any more, whatever mix of keys, re-writes, leases, hand-overs and rejections led there.
/// </summary>
public abstract class CacheValueOwnershipTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private BoundedCache<int, Resource> NewCache(int maximumCount = 10, long? maximumWeight = null)
        => new(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = maximumCount,
            MaximumWeight = maximumWeight,
            Weigher = maximumWeight is null ? null : static (_, r) => r.Weight,
            DisposeRemovedValues = true,
        });

    [Fact]
    public void Lease_SameInstanceSetAgainThenRemoved_NotDisposedWhileLeased()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var value = new Resource();
        cache.Set(1, value);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));

        cache.Set(1, value);
        cache.TryRemove(1);

        Assert.Equal(0, value.DisposeCount);
        lease.Dispose();
        Assert.Equal(1, value.DisposeCount);
    }

    [Fact]
    public void TwoKeys_OneRemoved_ValueNotDisposedWhileTheOtherHoldsIt()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var shared = new Resource();
        cache.Set(1, shared);
        cache.Set(2, shared);

        cache.TryRemove(1);

        Assert.Equal(0, shared.DisposeCount);
        Assert.True(cache.TryGet(2, out Resource? stillThere));
        Assert.Same(shared, stillThere);
        cache.TryRemove(2);
        Assert.Equal(1, shared.DisposeCount);
    }

    [Fact]
    public void TwoKeys_EvictedReplacedCleared_DisposedOnceWhenTheLastGoes()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumCount: 2);
        var shared = new Resource();
        cache.Set(1, shared);
        cache.Set(2, shared);

        cache.Set(3, new Resource()); // evicts one of the two keys (which one is the policy's choice)
        Assert.Equal(0, shared.DisposeCount);
        int last = cache.ContainsKey(1) ? 1 : 2;
        Assert.True(cache.TryGet(last, out Resource? stillThere));
        Assert.Same(shared, stillThere);
        cache.Set(last, new Resource()); // replaces the last holder
        Assert.Equal(1, shared.DisposeCount);

        var other = new Resource();
        cache.Set(4, other);
        cache.Set(5, other);
        cache.Clear();
        Assert.Equal(1, other.DisposeCount);
    }

    [Fact]
    public void TwoKeys_CacheDisposed_DisposedOnce()
    {
        BoundedCache<int, Resource> cache = NewCache();
        var shared = new Resource();
        cache.Set(1, shared);
        cache.Set(2, shared);

        cache.Dispose();

        Assert.Equal(1, shared.DisposeCount);
    }

    [Fact]
    public void StoredInstanceSetAgain_AfterItGrewPastTheBound_IsNotDisposedAndIsTheCallersAgain()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumWeight: 10);
        var reasons = new List<RemovalReason>();
        cache.EntryRemoved += (_, e) => reasons.Add(e.Reason);
        var value = new Resource { Weight = 2 };
        cache.Set(1, value);
        value.Weight = 50;

        cache.Set(1, value);

        Assert.Equal(0, value.DisposeCount);
        Assert.False(cache.ContainsKey(1));
        Assert.Equal([RemovalReason.Replaced, RemovalReason.Rejected], reasons);

        // The cache let go of it without disposing: it does not dispose it later either.
        cache.Set(2, new Resource());
        cache.Clear();
        Assert.Equal(0, value.DisposeCount);
    }

    [Fact]
    public void NewInstanceRejected_WhileAnotherKeyHoldsIt_IsNotDisposed()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumWeight: 10);
        var value = new Resource { Weight = 2 };
        cache.Set(1, value);
        value.Weight = 50;

        cache.Set(2, value);

        Assert.Equal(0, value.DisposeCount);
        Assert.True(cache.ContainsKey(1));
        cache.TryRemove(1);
        Assert.Equal(1, value.DisposeCount);
    }

    [Fact]
    public void HandOver_WhileLeased_LeaseReleaseDoesNotDispose()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var value = new Resource();
        cache.Set(1, value);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));

        Assert.True(cache.TryRemove(1, out Resource? handedOver));
        lease.Dispose();

        Assert.Same(value, handedOver);
        Assert.Equal(0, value.DisposeCount);
    }

    [Fact]
    public void HandedOverWhileLeased_WrittenAgainAndRefused_TheCacheOwnsItAgainAndTheLeaseDisposesIt()
    {
        // Found by the ownership model test: a refused write still gives the instance to the cache.
        using BoundedCache<int, Resource> cache = NewCache(maximumWeight: 10);
        var value = new Resource { Weight = 2 };
        cache.Set(1, value);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));
        Assert.True(cache.TryRemove(1, out _));
        value.Weight = 50;

        cache.Set(2, value);
        Assert.Equal(0, value.DisposeCount);
        lease.Dispose();

        Assert.Equal(1, value.DisposeCount);
    }

    [Fact]
    public void HandOver_WhileAnotherKeyHoldsIt_CacheStillOwnsItThroughThatKey()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var value = new Resource();
        cache.Set(1, value);
        cache.Set(2, value);

        Assert.True(cache.TryRemove(1, out _));
        Assert.Equal(0, value.DisposeCount);

        cache.TryRemove(2);
        Assert.Equal(1, value.DisposeCount);
    }

    [Fact]
    public void LeftWhileLeased_WrittenAgainBeforeRelease_ReleaseDoesNotDispose()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var value = new Resource();
        cache.Set(1, value);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));
        cache.TryRemove(1);

        cache.Set(2, value);
        lease.Dispose();

        Assert.Equal(0, value.DisposeCount);
        Assert.True(cache.ContainsKey(2));
        cache.Clear();
        Assert.Equal(1, value.DisposeCount);
    }

    [Fact]
    public void GetOrAdd_LoadedValueRejectedForWeight_ThrowsInsteadOfReturningADisposedValue()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumWeight: 10);
        Resource? created = null;

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => cache.GetOrAdd(1, _ => created = new Resource { Weight = 50 }));

        Assert.Contains("MaximumWeight", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(created);
        Assert.Equal(1, created.DisposeCount);
        Assert.False(cache.ContainsKey(1));
    }

    [Fact]
    public void GetOrAdd_LoadedValueRejectedButHeldByAnotherKey_ReturnsIt()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumWeight: 10);
        var shared = new Resource { Weight = 2 };
        cache.Set(1, shared);
        shared.Weight = 50;

        Resource value = cache.GetOrAdd(2, _ => shared);

        Assert.Same(shared, value);
        Assert.Equal(0, shared.DisposeCount);
    }

    [Fact]
    public void GetOrAdd_LoadedValueEvictedByAWriteBeforeTheCallReturns_LoadsAgainAndReturnsALiveValue()
    {
        // A handler runs on the loading thread after the store and before GetOrAdd returns: its write stands in for
        // another thread's write that evicts the freshly loaded value in that window.
        using BoundedCache<int, Resource> cache = NewCache(maximumCount: 1);
        cache.Set(0, new Resource());
        bool interfered = false;
        cache.EntryRemoved += (_, e) =>
        {
            if (e.Key == 0 && !interfered)
            {
                interfered = true;
                cache.Set(2, new Resource());
            }
        };
        var created = new List<Resource>();

        Resource value = cache.GetOrAdd(1, _ =>
        {
            var resource = new Resource();
            created.Add(resource);
            return resource;
        });

        Assert.Equal(0, value.DisposeCount);
        Assert.Equal(2, created.Count);
        Assert.Same(created[1], value);
        Assert.Equal(1, created[0].DisposeCount);
        Assert.True(cache.TryGet(1, out Resource? stored));
        Assert.Same(value, stored);
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : CacheValueOwnershipTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : CacheValueOwnershipTests(EvictionPolicy.TinyLfu);
}
