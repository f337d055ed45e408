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

        // One call, one lookup (issue 20.3): looking again after the value left is not another lookup.
        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal((0L, 1L), (statistics.Hits, statistics.Misses));
        Assert.True(cache.TryGet(1, out Resource? stored));
        Assert.Same(value, stored);
    }

    public enum RemovalAction
    {
        Evicted,
        ExpiredOnWrite,
        ExpiredOnRead,
        Replaced,
        Removed,
        Cleared,
    }

    public enum LeaseSource
    {
        TryLease,
        GetOrAddLease,
        GetOrAddLeaseAsync,
    }

    public static TheoryData<RemovalAction, LeaseSource> RemovalsAndLeases()
    {
        var data = new TheoryData<RemovalAction, LeaseSource>();
        foreach (RemovalAction action in Enum.GetValues<RemovalAction>())
        {
            foreach (LeaseSource source in Enum.GetValues<LeaseSource>())
            {
                data.Add(action, source);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RemovalsAndLeases))]
    public async Task LeaseReleased_WhileTheRemovalsHandlerRuns_ValueDisposedOnlyAfterTheHandler(RemovalAction action, LeaseSource source)
    {
        // Issue 20.1: the release used to find no entry and no other lease, and disposed the value under the handler.
        var clock = new FakeTimeProvider();
        using BoundedCache<int, Resource> cache = new(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = 4,
            ExpireAfterWrite = TimeSpan.FromMinutes(1),
            TimeProvider = clock,
            DisposeRemovedValues = true,
        });
        var value = new Resource();
        cache.Set(1, value);
        CacheLease<Resource> lease = source switch
        {
            LeaseSource.TryLease => cache.TryLease(1, out CacheLease<Resource>? found) ? found : throw new InvalidOperationException("no lease"),
            LeaseSource.GetOrAddLease => cache.GetOrAddLease(1, static _ => new Resource()),
            _ => await cache.GetOrAddLeaseAsync(1, static (_, _) => new ValueTask<Resource>(new Resource())),
        };
        Assert.Same(value, lease.Value);

        using var handlerRuns = new ManualResetEventSlim();
        using var released = new ManualResetEventSlim();
        int disposedAtHandlerEnd = -1;
        cache.EntryRemoved += (_, e) =>
        {
            if (ReferenceEquals(e.Value, value))
            {
                handlerRuns.Set();
                Assert.True(released.Wait(TimeSpan.FromSeconds(30)));
                disposedAtHandlerEnd = e.Value.DisposeCount;
            }
        };

        Task removal = Task.Factory.StartNew(() => Remove(cache, action, clock), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(handlerRuns.Wait(TimeSpan.FromSeconds(30)), "the removal's handler did not run");

        lease.Dispose();
        Assert.Equal(0, value.DisposeCount);
        released.Set();
        await removal.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, disposedAtHandlerEnd);
        Assert.Equal(1, value.DisposeCount);
        Assert.Null(cache.FindInconsistency());
        Assert.Equal(0, cache.CountLeases());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetOrAdd_LoadHoldGivenBackWhileARemovalsHandlerRuns_ValueDisposedOnlyAfterTheHandlerAndNotReturned(bool async)
    {
        // Issue 20.1, the load's hold: GetOrAdd gives its hold back just before returning; if a removal of the loaded
        // value is publishing meanwhile, that release must not dispose the value under the removal's handler.
        var clock = new FakeTimeProvider();
        using BoundedCache<int, Resource> cache = new(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = 4,
            ExpireAfterWrite = TimeSpan.FromMinutes(1),
            TimeProvider = clock,
            DisposeRemovedValues = true,
        });
        cache.Set(0, new Resource());
        clock.Advance(TimeSpan.FromMinutes(2));
        var loaded = new List<Resource>();
        using var removerInHandler = new ManualResetEventSlim();
        using var loaderDone = new ManualResetEventSlim();
        int disposedAtHandlerEnd = -1;
        Task? remover = null;
        cache.EntryRemoved += (_, e) =>
        {
            if (e.Key == 0)
            {
                // On the loading thread: the store of key 1 purged key 0 and publishes it before GetOrAdd returns.
                remover = Task.Factory.StartNew(() => cache.TryRemove(1), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                Assert.True(removerInHandler.Wait(TimeSpan.FromSeconds(30)));
            }
            else if (e.Key == 1 && e.Reason == RemovalReason.Removed && ReferenceEquals(e.Value, loaded[0]))
            {
                removerInHandler.Set();
                Assert.True(loaderDone.Wait(TimeSpan.FromSeconds(30)));
                disposedAtHandlerEnd = e.Value.DisposeCount;
            }
        };

        Resource Create()
        {
            var resource = new Resource();
            lock (loaded)
            {
                loaded.Add(resource);
            }

            return resource;
        }

        Resource result = async
            ? await cache.GetOrAddAsync(1, (_, _) => new ValueTask<Resource>(Create()))
            : cache.GetOrAdd(1, _ => Create());
        Assert.Equal(0, loaded[0].DisposeCount);
        loaderDone.Set();
        await remover!.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, disposedAtHandlerEnd);
        Assert.Equal(1, loaded[0].DisposeCount);

        // The value had left the cache and was on its way to disposal: the call loaded again rather than return it.
        Assert.NotSame(loaded[0], result);
        Assert.Equal(0, result.DisposeCount);
        Assert.Equal(0, cache.CountLeases());
        Assert.Null(cache.FindInconsistency());
    }

    private static void Remove(BoundedCache<int, Resource> cache, RemovalAction action, FakeTimeProvider clock)
    {
        switch (action)
        {
            case RemovalAction.Evicted:
                // Hot newcomers, so that either policy evicts key 1 (TinyLfu admits what was read more often).
                for (int key = 2; cache.ContainsKey(1) && key < 1_000; key++)
                {
                    cache.Set(key, new Resource());
                    for (int i = 0; i < 8; i++)
                    {
                        cache.TryGet(key, out _);
                    }
                }

                Assert.False(cache.ContainsKey(1));
                break;
            case RemovalAction.ExpiredOnWrite:
                clock.Advance(TimeSpan.FromMinutes(2));
                cache.Set(2, new Resource());
                break;
            case RemovalAction.ExpiredOnRead:
                clock.Advance(TimeSpan.FromMinutes(2));
                Assert.False(cache.TryGet(1, out _));
                break;
            case RemovalAction.Replaced:
                cache.Set(1, new Resource());
                break;
            case RemovalAction.Removed:
                Assert.True(cache.TryRemove(1));
                break;
            case RemovalAction.Cleared:
                cache.Clear();
                break;
        }
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : CacheValueOwnershipTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : CacheValueOwnershipTests(EvictionPolicy.TinyLfu);
}
