using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>The internal hooks the IMemoryCache adapter drives: per-entry weight and expiry, conditional removal.</summary>
public abstract class CacheEntryPolicyTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private readonly FakeTimeProvider _clock = new();

    private BoundedCache<string, object> NewCache(long maximumWeight = 100, TimeSpan? expireAfterWrite = null, TimeSpan? expireAfterAccess = null)
        => new(new BoundedCacheOptions<string, object>
        {
            EvictionPolicy = Policy,
            MaximumWeight = maximumWeight,
            ExpireAfterWrite = expireAfterWrite,
            ExpireAfterAccess = expireAfterAccess,
            TimeProvider = _clock,
        });

    [Fact]
    public void Set_Weight_OverridesWeigher()
    {
        using BoundedCache<string, object> cache = NewCache();

        cache.Set("a", "x", new CacheEntryPolicy(Weight: 40, null, null));

        Assert.Equal(40, cache.Weight);
    }

    [Fact]
    public void Set_NegativeWeight_ThrowsAndChangesNothing()
    {
        using BoundedCache<string, object> cache = NewCache();

        Assert.Throws<InvalidOperationException>(() => cache.Set("a", "x", new CacheEntryPolicy(Weight: -1, null, null)));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Set_NonPositiveSliding_Throws()
    {
        using BoundedCache<string, object> cache = NewCache();

        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("a", "x", new CacheEntryPolicy(null, null, TimeSpan.Zero)));
    }

    [Fact]
    public void Set_AbsoluteExpiration_ExpiresAtThatInstant()
    {
        using BoundedCache<string, object> cache = NewCache();
        cache.Set("a", "x", new CacheEntryPolicy(null, _clock.GetUtcNow().AddSeconds(5), null));

        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.True(cache.TryGet("a", out _));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet("a", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Set_AbsoluteExpirationInThePast_NotStoredAndPreviousRemoved()
    {
        using BoundedCache<string, object> cache = NewCache();
        var reasons = new List<RemovalReason>();
        cache.EntryRemoved += (_, e) => reasons.Add(e.Reason);
        cache.Set("a", "old");

        cache.Set("a", "new", new CacheEntryPolicy(null, _clock.GetUtcNow().AddSeconds(-1), null));

        Assert.False(cache.ContainsKey("a"));
        Assert.Equal([RemovalReason.Replaced, RemovalReason.Expired], reasons);
    }

    [Fact]
    public void Set_Sliding_RefreshedByReads()
    {
        using BoundedCache<string, object> cache = NewCache();
        cache.Set("a", "x", new CacheEntryPolicy(null, null, TimeSpan.FromSeconds(10)));

        for (int i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(9));
            Assert.True(cache.TryGet("a", out _));
        }

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public void Set_PerEntryAndCacheWide_EarliestWins()
    {
        using BoundedCache<string, object> cache = NewCache(expireAfterWrite: TimeSpan.FromSeconds(10));
        cache.Set("late", "x", new CacheEntryPolicy(null, _clock.GetUtcNow().AddSeconds(60), null));
        cache.Set("early", "x", new CacheEntryPolicy(null, _clock.GetUtcNow().AddSeconds(3), null));

        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.False(cache.TryGet("early", out _));
        Assert.True(cache.TryGet("late", out _));
        _clock.Advance(TimeSpan.FromSeconds(7));
        Assert.False(cache.TryGet("late", out _));
    }

    [Fact]
    public void Set_PerEntryExpiry_PurgedByLaterWritesWithoutReads()
    {
        using BoundedCache<string, object> cache = NewCache(maximumWeight: 1000);
        for (int i = 0; i < 20; i++)
        {
            // Alternate long and short lives, so expired entries are not a prefix of the write order.
            cache.Set("entry" + i, "x", new CacheEntryPolicy(null, _clock.GetUtcNow().AddSeconds(i % 2 == 0 ? 100 : 1), null));
        }

        _clock.Advance(TimeSpan.FromSeconds(2));
        for (int i = 0; i < 20; i++)
        {
            cache.Set("other" + i, "y");
        }

        // The amortized scan visits a few entries per write: 20 writes reach all 10 expired ones.
        Assert.Equal(30, cache.Count);
        Assert.Equal(10, cache.GetStatistics().Expirations);
    }

    [Fact]
    public void TryRemove_ExpectedValue_RemovesOnlyThatValue()
    {
        using BoundedCache<string, object> cache = NewCache();
        var current = new object();
        RemovalReason? reason = null;
        cache.EntryRemoved += (_, e) => reason = e.Reason;
        cache.Set("a", current);

        Assert.False(cache.TryRemove("a", new object(), RemovalReason.Removed));
        Assert.True(cache.ContainsKey("a"));
        Assert.False(cache.TryRemove("missing", current, RemovalReason.Removed));

        Assert.True(cache.TryRemove("a", current, RemovalReason.Expired));
        Assert.False(cache.ContainsKey("a"));
        Assert.Equal(RemovalReason.Expired, reason);
    }

    [Fact]
    public void TryRemove_ExpectedValueType_UsesValueEquality()
    {
        using var cache = new BoundedCache<string, int>(new BoundedCacheOptions<string, int> { EvictionPolicy = Policy, MaximumCount = 4 });
        cache.Set("a", 42);

        Assert.False(cache.TryRemove("a", 41, RemovalReason.Removed));
        Assert.True(cache.TryRemove("a", 42, RemovalReason.Removed));
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : CacheEntryPolicyTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : CacheEntryPolicyTests(EvictionPolicy.TinyLfu);
}
