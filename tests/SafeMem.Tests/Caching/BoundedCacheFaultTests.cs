using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>User code that throws (weigher, factory, handler, disposer) leaves the cache consistent and loses nothing.</summary>
public abstract class BoundedCacheFaultTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    [Fact]
    public void Weigher_Throws_SetFailsAndNothingChanges()
    {
        bool fail = false;
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 10,
            Weigher = (_, v) => fail ? throw new FormatException("weigher") : v.Length,
        });
        cache.Set(1, "aaa");
        fail = true;

        Assert.Throws<FormatException>(() => cache.Set(1, "bbbb"));
        Assert.Throws<FormatException>(() => cache.Set(2, "cc"));

        Assert.True(cache.TryGet(1, out string? value));
        Assert.Equal("aaa", value);
        Assert.Equal(1, cache.Count);
        Assert.Equal(3, cache.Weight);
    }

    [Fact]
    public void Weigher_Throws_GetOrAddFailsAndCachesNothing()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumWeight = 10,
            Weigher = (_, _) => throw new FormatException("weigher"),
        });

        Assert.Throws<FormatException>(() => cache.GetOrAdd(1, _ => "x"));
        Assert.Equal(0, cache.Count);
        Assert.Equal(1, cache.GetStatistics().FactoryFailures);
    }

    [Fact]
    public void Handler_Throws_OperationCompletesOtherHandlersRunAndExceptionSurfaces()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 2 });
        var seen = new List<int>();
        cache.EntryRemoved += (_, e) => throw new InvalidDataException("handler " + e.Key);
        cache.EntryRemoved += (_, e) => seen.Add(e.Key);
        cache.Set(1, "a");
        cache.Set(2, "b");

        // Two reads of 2 make 1 the victim under both policies (TinyLfu keeps a resident that is behind by one use).
        cache.TryGet(2, out _);
        cache.TryGet(2, out _);

        InvalidDataException ex = Assert.Throws<InvalidDataException>(() => cache.Set(3, "c"));

        Assert.Equal("handler 1", ex.Message);
        Assert.Equal([1], seen);
        Assert.True(cache.ContainsKey(3));
        Assert.True(cache.ContainsKey(2));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Handler_ThrowsForSeveralRemovals_AggregateAfterAllRan()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 5 });
        int calls = 0;
        cache.EntryRemoved += (_, e) =>
        {
            calls++;
            throw new InvalidDataException("handler " + e.Key);
        };
        cache.Set(1, "a");
        cache.Set(2, "b");
        cache.Set(3, "c");

        AggregateException ex = Assert.Throws<AggregateException>(cache.Clear);

        Assert.Equal(3, ex.InnerExceptions.Count);
        Assert.Equal(3, calls);
        Assert.Equal(0, cache.Count);
        cache.Set(4, "d");
        Assert.True(cache.ContainsKey(4));
    }

    [Fact]
    public void Disposer_Throws_OtherValuesStillDisposedAndCacheConsistent()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource> { EvictionPolicy = Policy, MaximumCount = 5, DisposeRemovedValues = true });
        var good1 = new Resource();
        var bad = new Resource { ThrowOnDispose = true };
        var good2 = new Resource();
        cache.Set(1, good1);
        cache.Set(2, bad);
        cache.Set(3, good2);

        Assert.Throws<InvalidDataException>(cache.Clear);

        Assert.Equal(1, good1.DisposeCount);
        Assert.Equal(1, bad.DisposeCount);
        Assert.Equal(1, good2.DisposeCount);
        Assert.Equal(0, cache.Count);
        cache.Set(4, new Resource());
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Disposer_ThrowsOnEviction_WriteStillTakesEffect()
    {
        using var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource> { EvictionPolicy = Policy, MaximumCount = 1, DisposeRemovedValues = true });
        cache.Set(1, new Resource { ThrowOnDispose = true });
        var next = new Resource();

        Assert.Throws<InvalidDataException>(() => cache.Set(2, next));

        Assert.True(cache.TryGet(2, out Resource? stored));
        Assert.Same(next, stored);
        Assert.Equal(0, next.DisposeCount);
    }

    [Fact]
    public void Factory_Throws_OtherEntriesUntouched()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 2 });
        cache.Set(1, "a");
        cache.Set(2, "b");

        Assert.Throws<InvalidDataException>(() => cache.GetOrAdd(3, _ => throw new InvalidDataException()));

        Assert.True(cache.ContainsKey(1));
        Assert.True(cache.ContainsKey(2));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Handler_ThrowsDuringGetOrAdd_ValueStillReturnedToWaitersAndStored()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 1 });
        cache.Set(1, "a");
        cache.EntryRemoved += (_, _) => throw new InvalidDataException("handler");

        Assert.Throws<InvalidDataException>(() => cache.GetOrAdd(2, _ => "b"));

        Assert.True(cache.TryGet(2, out string? value));
        Assert.Equal("b", value);
    }

    internal sealed class Resource : IDisposable
    {
        private int _disposeCount;

        public bool ThrowOnDispose { get; init; }

        /// <summary>What a weigher that reads it reports; settable, so a stored value can grow.</summary>
        public long Weight { get; set; } = 1;

        public int DisposeCount => Volatile.Read(ref _disposeCount);

        public void Dispose()
        {
            Interlocked.Increment(ref _disposeCount);
            if (ThrowOnDispose)
            {
                throw new InvalidDataException("dispose");
            }
        }
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : BoundedCacheFaultTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : BoundedCacheFaultTests(EvictionPolicy.TinyLfu);
}
