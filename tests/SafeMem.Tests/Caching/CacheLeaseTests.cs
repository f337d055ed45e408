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

        // Read 2 twice so that both policies evict 1: it is then the least recent and less frequent by more than one use.
        cache.TryGet(2, out _);
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryLease_LosesItsRaceWithARemoval_ReturnsFalseAndCountsAMissNotAHit(bool throughGetOrAddLease)
    {
        // Issue 20.3: the lookup was counted as a hit when it found the node, then the lease found it removed.
        using BoundedCache<int, Resource> cache = NewCache();
        cache.Set(1, new Resource());
        Resource? loaded = null;
        CacheLease<Resource>? result = null;
        bool leased = true;
        Thread lookup;
        lock (cache.PolicyLock)
        {
            lookup = new Thread(() =>
            {
                if (throughGetOrAddLease)
                {
                    result = cache.GetOrAddLease(1, _ => loaded = new Resource());
                }
                else
                {
                    leased = cache.TryLease(1, out result);
                }
            });
            lookup.Start();

            // The lookup found the node (and counted it) and now waits for the lock this thread holds.
            SpinWait.SpinUntil(() => cache.GetStatistics().Hits == 1, s_deadlockGuard);
            Assert.Equal(1, cache.GetStatistics().Hits);

            // The lock is re-entrant: the removal completes before the lookup can take its lease.
            Assert.True(cache.TryRemove(1));
        }

        Assert.True(lookup.Join(s_deadlockGuard));
        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal((0L, 1L), (statistics.Hits, statistics.Misses));
        if (throughGetOrAddLease)
        {
            // The miss made it load: one lookup, one factory run, a lease on the loaded value.
            Assert.NotNull(loaded);
            Assert.Same(loaded, result!.Value);
            Assert.Equal(1, statistics.FactoryCalls);
            result.Dispose();
        }
        else
        {
            Assert.False(leased);
            Assert.Null(result);
        }

        Assert.Equal(0, cache.CountLeases());
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

    private static readonly TimeSpan s_deadlockGuard = TimeSpan.FromSeconds(10);

    [Fact]
    public void GetOrAddLease_Miss_StoresAndLeasesInOneStep()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumCount: 1);
        int calls = 0;

        using (CacheLease<Resource> lease = cache.GetOrAddLease(1, _ => { calls++; return new Resource(); }))
        {
            Assert.True(cache.TryGet(1, out Resource? stored));
            Assert.Same(stored, lease.Value);

            cache.Set(2, new Resource()); // evicts key 1 while leased
            Assert.Equal(0, lease.Value.DisposeCount);
            Assert.Equal(1, calls);
            lease.Dispose();
            Assert.Equal(1, lease.Value.DisposeCount);
        }
    }

    [Fact]
    public void GetOrAddLease_Hit_LeasesTheStoredValueWithoutRunningTheFactory()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var stored = new Resource();
        cache.Set(1, stored);

        using CacheLease<Resource> lease = cache.GetOrAddLease(1, static _ => throw new InvalidOperationException("not called"));
        cache.TryRemove(1);

        Assert.Same(stored, lease.Value);
        Assert.Equal(0, stored.DisposeCount);
        Assert.Equal(1, cache.GetStatistics().Hits);
    }

    [Fact]
    public void GetOrAddLease_StateOverload_PassesTheArgument()
    {
        using BoundedCache<int, Resource> cache = NewCache(configure: o => (o.MaximumWeight, o.Weigher) = (100, static (_, r) => r.Weight));

        using CacheLease<Resource> lease = cache.GetOrAddLease(1, static (_, weight) => new Resource { Weight = weight }, 7L);

        Assert.Equal(7, lease.Value.Weight);
        Assert.Equal(7, cache.Weight);
    }

    [Fact]
    public void GetOrAddLease_LoadedValueHeavierThanTheBound_HandedOutAndDisposedWhenTheLeaseIs()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 10,
            Weigher = static (_, r) => r.Weight,
            DisposeRemovedValues = true,
        });
        var reasons = new List<RemovalReason>();
        cache.EntryRemoved += (_, e) => reasons.Add(e.Reason);

        CacheLease<Resource> lease = cache.GetOrAddLease(1, _ => new Resource { Weight = 50 });

        Assert.Equal([RemovalReason.Rejected], reasons);
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(0, lease.Value.DisposeCount);
        lease.Dispose();
        Assert.Equal(1, lease.Value.DisposeCount);
    }

    [Fact]
    public void GetOrAddLease_ValueEvictedBeforeTheCallReturns_StaysUsableAndTheFactoryRunsOnce()
    {
        // A handler on the loading thread writes after the store, before the call returns (as another thread could).
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
        int calls = 0;

        CacheLease<Resource> lease = cache.GetOrAddLease(1, _ => { calls++; return new Resource(); });

        Assert.False(cache.ContainsKey(1));
        Assert.Equal(0, lease.Value.DisposeCount);
        Assert.Equal(1, calls);
        lease.Dispose();
        Assert.Equal(1, lease.Value.DisposeCount);
    }

    [Fact]
    public void GetOrAddLease_HandlerThrowsDuringTheStore_ThrowsAndGivesItsHoldBack()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumCount: 1);
        cache.Set(0, new Resource());
        cache.EntryRemoved += (_, e) => throw new InvalidDataException("handler");
        Resource? created = null;

        Assert.Throws<InvalidDataException>(() => cache.GetOrAddLease(1, _ => created = new Resource()));

        Assert.True(cache.TryGet(1, out Resource? stored));
        Assert.Same(created, stored);
        Assert.Throws<InvalidDataException>(() => cache.TryRemove(1));
        Assert.Equal(1, created!.DisposeCount);
    }

    [Fact]
    public void GetOrAddLease_WithoutDisposeRemovedValues_CarriesTheValue()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource> { EvictionPolicy = Policy, MaximumCount = 1 });

        CacheLease<Resource> lease = cache.GetOrAddLease(1, _ => new Resource());
        cache.TryRemove(1);
        lease.Dispose();

        Assert.Equal(0, lease.Value.DisposeCount);
    }

    [Fact]
    public async Task GetOrAddLeaseAsync_TwoCallersShareOneLoad_DisposedOnlyAfterBothLeasesAndTheEntryWent()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var gate = new TaskCompletionSource<Resource>(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        ValueTask<Resource> Factory(int key, CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<Resource>(gate.Task);
        }

        ValueTask<CacheLease<Resource>> first = cache.GetOrAddLeaseAsync(1, Factory);
        ValueTask<CacheLease<Resource>> second = cache.GetOrAddLeaseAsync(1, Factory);
        gate.SetResult(new Resource());
        CacheLease<Resource> a = await first.AsTask().WaitAsync(s_deadlockGuard);
        CacheLease<Resource> b = await second.AsTask().WaitAsync(s_deadlockGuard);

        Assert.Same(a.Value, b.Value);
        Assert.Equal(1, calls);
        cache.TryRemove(1);
        a.Dispose();
        Assert.Equal(0, b.Value.DisposeCount);
        b.Dispose();
        Assert.Equal(1, b.Value.DisposeCount);
    }

    [Fact]
    public async Task GetOrAddLeaseAsync_WaiterCancelled_TheHoldTakenForItIsGivenBack()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var gate = new TaskCompletionSource<Resource>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();

        ValueTask<CacheLease<Resource>> loader = cache.GetOrAddLeaseAsync(1, (_, _) => new ValueTask<Resource>(gate.Task));
        ValueTask<CacheLease<Resource>> waiter = cache.GetOrAddLeaseAsync(1, (_, _) => ValueTask.FromResult(new Resource()), cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.AsTask().WaitAsync(s_deadlockGuard));
        gate.SetResult(new Resource());
        CacheLease<Resource> lease = await loader.AsTask().WaitAsync(s_deadlockGuard);

        cache.TryRemove(1);
        Assert.Equal(0, lease.Value.DisposeCount);
        lease.Dispose();
        Assert.Equal(1, lease.Value.DisposeCount);
    }

    [Fact]
    public async Task GetOrAddLeaseAsync_WaiterCancelledAfterAHoldWasTakenForIt_TheHoldIsGivenBack()
    {
        using BoundedCache<int, Resource> cache = NewCache(maximumCount: 1);
        cache.Set(0, new Resource());
        var gate = new TaskCompletionSource<Resource>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();

        // The store evicts key 0; its handler runs after the value was stored and held for both callers, and cancels
        // the waiter then, before the waiter had a chance to take its lease.
        cache.EntryRemoved += (_, e) =>
        {
            if (e.Key == 0)
            {
                cts.Cancel();
            }
        };
        ValueTask<CacheLease<Resource>> loader = cache.GetOrAddLeaseAsync(1, (_, _) => new ValueTask<Resource>(gate.Task));
        ValueTask<CacheLease<Resource>> waiter = cache.GetOrAddLeaseAsync(1, (_, _) => ValueTask.FromResult(new Resource()), cts.Token);
        gate.SetResult(new Resource());
        CacheLease<Resource> lease = await loader.AsTask().WaitAsync(s_deadlockGuard);
        try
        {
            // Usually cancelled; should the wake-up have won the race, the waiter holds a lease of its own.
            (await waiter.AsTask().WaitAsync(s_deadlockGuard)).Dispose();
        }
        catch (OperationCanceledException)
        {
        }

        cache.TryRemove(1);
        lease.Dispose();
        await WaitUntil(() => lease.Value.DisposeCount == 1);
        Assert.Equal(1, lease.Value.DisposeCount);
    }

    [Fact]
    public async Task GetOrAddLeaseAsync_LoaderCancelledFactoryIgnoresIt_LoadCompletesForTheOthersAndNoHoldLeaks()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var gate = new TaskCompletionSource<Resource>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();

        ValueTask<CacheLease<Resource>> loader = cache.GetOrAddLeaseAsync(1, (_, _) => new ValueTask<Resource>(gate.Task), cts.Token);
        ValueTask<Resource> waiter = cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult(new Resource()));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loader.AsTask().WaitAsync(s_deadlockGuard));
        var created = new Resource();
        gate.SetResult(created);

        Assert.Same(created, await waiter.AsTask().WaitAsync(s_deadlockGuard));
        Assert.Equal(0, created.DisposeCount);

        // Neither the cancelled loader nor the plain waiter kept a hold: removing the entry disposes the value.
        cache.TryRemove(1);
        Assert.Equal(1, created.DisposeCount);
    }

    [Fact]
    public async Task GetOrAddAsync_LoadedValueRejected_ThrowsAndDisposesIt()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 10,
            Weigher = static (_, r) => r.Weight,
            DisposeRemovedValues = true,
        });
        var created = new Resource { Weight = 11 };

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult(created)).AsTask());

        Assert.Equal(1, created.DisposeCount);
    }

    [Fact]
    public void GetOrAdd_RejectedValueThatIsNotDisposable_IsReturnedEvenWhenTheCacheDisposesValues()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 3,
            Weigher = static (_, v) => v.Length,
            DisposeRemovedValues = true,
        });

        Assert.Equal("heavy", cache.GetOrAdd(1, _ => "heavy"));
        Assert.False(cache.ContainsKey(1));
    }

    [Fact]
    public void GetOrAdd_FactoryReturnsAnInstanceStoredUnderAnotherKey_BothKeysHoldIt()
    {
        using BoundedCache<int, Resource> cache = NewCache();
        var shared = new Resource();
        cache.Set(1, shared);

        Assert.Same(shared, cache.GetOrAdd(2, _ => shared));
        cache.TryRemove(1);

        Assert.Equal(0, shared.DisposeCount);
        cache.TryRemove(2);
        Assert.Equal(1, shared.DisposeCount);
    }

    [Fact]
    public void TryLease_EntryExpiresWhileLeased_DisposedWhenTheLeaseIs()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, Resource> cache = NewCache(configure: o => (o.ExpireAfterAccess, o.TimeProvider) = (TimeSpan.FromSeconds(5), clock));
        var resource = new Resource();
        cache.Set(1, resource);
        Assert.True(cache.TryLease(1, out CacheLease<Resource>? lease));

        clock.Advance(TimeSpan.FromSeconds(6));
        cache.Set(2, new Resource()); // purges the expired entry
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(0, resource.DisposeCount);

        using CacheLease<Resource> reloaded = cache.GetOrAddLease(1, _ => new Resource());
        Assert.NotSame(resource, reloaded.Value);
        lease.Dispose();
        Assert.Equal(1, resource.DisposeCount);
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

    /// <summary>A hold given back by a continuation may land a moment after the awaited call returned (bounded wait).</summary>
    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : CacheLeaseTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : CacheLeaseTests(EvictionPolicy.TinyLfu);
}
