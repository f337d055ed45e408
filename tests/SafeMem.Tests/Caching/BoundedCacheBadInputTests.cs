using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>Every bad input of the issue gets a clear exception and leaves the cache intact.</summary>
public abstract class BoundedCacheBadInputTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private BoundedCache<string, string> NewCache(Func<string, string, long>? weigher = null, long? maximumWeight = null)
    {
        var cache = new BoundedCache<string, string>(new BoundedCacheOptions<string, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 10,
            MaximumWeight = maximumWeight,
            Weigher = weigher,
        });
        cache.Set("kept", "value");
        return cache;
    }

    private static void AssertIntact(BoundedCache<string, string> cache)
    {
        Assert.True(cache.TryGet("kept", out string? value));
        Assert.Equal("value", value);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Constructor_NullOptions_Throws()
        => Assert.Throws<ArgumentNullException>(() => new BoundedCache<int, string>(null!));

    [Fact]
    public void Constructor_NoBound_Throws()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy }));

        Assert.Contains("MaximumCount", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullKey_EveryMember_ThrowsArgumentNull()
    {
        using BoundedCache<string, string> cache = NewCache();

        Assert.Throws<ArgumentNullException>(() => cache.TryGet(null!, out _));
        Assert.Throws<ArgumentNullException>(() => cache.Set(null!, "x"));
        Assert.Throws<ArgumentNullException>(() => cache.GetOrAdd(null!, _ => "x"));
        Assert.Throws<ArgumentNullException>(() => cache.GetOrAdd(null!, (_, a) => a, "x"));
        Assert.Throws<ArgumentNullException>(() => cache.GetOrAddAsync(null!, (_, _) => ValueTask.FromResult("x")));
        Assert.Throws<ArgumentNullException>(() => cache.TryRemove(null!));
        Assert.Throws<ArgumentNullException>(() => cache.TryRemove(null!, out _));
        Assert.Throws<ArgumentNullException>(() => cache.ContainsKey(null!));
        Assert.Throws<ArgumentNullException>(() => cache.TryLease(null!, out _));
        AssertIntact(cache);
    }

    [Fact]
    public void NullFactory_Throws()
    {
        using BoundedCache<string, string> cache = NewCache();

        Assert.Throws<ArgumentNullException>(() => cache.GetOrAdd("k", (Func<string, string>)null!));
        Assert.Throws<ArgumentNullException>(() => cache.GetOrAdd("k", (Func<string, int, string>)null!, 1));
        Assert.Throws<ArgumentNullException>(() => cache.GetOrAddAsync("k", null!));
        AssertIntact(cache);
    }

    [Fact]
    public void Set_NullValue_Throws()
    {
        using BoundedCache<string, string> cache = NewCache();

        Assert.Throws<ArgumentNullException>(() => cache.Set("k", null!));
        AssertIntact(cache);
    }

    [Fact]
    public void Set_NegativeWeight_ThrowsAndChangesNothing()
    {
        using BoundedCache<string, string> cache = NewCache(weigher: static (k, _) => k == "bad" ? -1 : 1);

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => cache.Set("bad", "x"));

        Assert.Contains("-1", ex.Message, StringComparison.Ordinal);
        AssertIntact(cache);
    }

    [Fact]
    public void Set_OverflowingTotalWeight_ThrowsAndChangesNothing()
    {
        using BoundedCache<string, string> cache = NewCache(weigher: static (k, _) => k == "kept" ? 1 : long.MaxValue);

        Assert.Throws<OverflowException>(() => cache.Set("huge", "x"));

        AssertIntact(cache);
        Assert.Equal(1, cache.Weight);
    }

    [Fact]
    public void Set_HugeWeightUnderHugeBound_DoesNotOverflow()
    {
        using BoundedCache<string, string> cache = NewCache(weigher: static (k, _) => k == "kept" ? long.MaxValue - 1 : long.MaxValue - 1, maximumWeight: long.MaxValue);

        cache.Set("other", "x");

        Assert.Equal(long.MaxValue - 1, cache.Weight);
        Assert.True(cache.ContainsKey("other"));
    }

    [Fact]
    public void GetOrAdd_FactoryReturnsNull_Throws()
    {
        using BoundedCache<string, string> cache = NewCache();

        Assert.Throws<InvalidOperationException>(() => cache.GetOrAdd("k", _ => null!));
        AssertIntact(cache);
    }

    [Fact]
    public void GetOrAdd_ReentrantSameKey_ThrowsAndLeavesCacheIntact()
    {
        using BoundedCache<string, string> cache = NewCache();

        Assert.Throws<InvalidOperationException>(() => cache.GetOrAdd("k", k => cache.GetOrAdd(k, _ => "inner")));
        AssertIntact(cache);
    }

    [Fact]
    public void UseAfterDispose_Throws()
    {
        BoundedCache<string, string> cache = NewCache();
        cache.Dispose();

        ObjectDisposedException ex = Assert.Throws<ObjectDisposedException>(() => cache.TryGet("kept", out _));
        Assert.Contains("disposed", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : BoundedCacheBadInputTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : BoundedCacheBadInputTests(EvictionPolicy.TinyLfu);
}
