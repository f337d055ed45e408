using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public abstract class BoundedCacheTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private BoundedCache<int, string> NewCache(int maximumCount = 3, Action<BoundedCacheOptions<int, string>>? configure = null)
    {
        var options = new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = maximumCount };
        configure?.Invoke(options);
        return new BoundedCache<int, string>(options);
    }

    private BoundedCache<int, string> NewWeighted(long maximumWeight) => new(new BoundedCacheOptions<int, string>
    {
        EvictionPolicy = Policy,
        MaximumWeight = maximumWeight,
        Weigher = static (_, v) => v.Length,
    });

    [Fact]
    public void Constructor_CopiesOptions()
    {
        var options = new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, Name = "users", MaximumCount = 5, MaximumWeight = 50 };
        using var cache = new BoundedCache<int, string>(options);
        options.MaximumCount = 500;

        Assert.Equal("users", cache.Name);
        Assert.Equal(5, cache.MaximumCount);
        Assert.Equal(50, cache.MaximumWeight);
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
    public void Set_ExistingKey_ReplacesAndReportsReplaced()
    {
        using BoundedCache<int, string> cache = NewCache();
        var removed = new List<(int, string, RemovalReason)>();
        cache.EntryRemoved += (_, e) => removed.Add((e.Key, e.Value, e.Reason));
        cache.Set(1, "a");

        cache.Set(1, "b");

        Assert.True(cache.TryGet(1, out string? value));
        Assert.Equal("b", value);
        Assert.Equal(1, cache.Count);
        Assert.Equal([(1, "a", RemovalReason.Replaced)], removed);
    }

    [Fact]
    public void Set_BothBounds_BothHold()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 3,
            MaximumWeight = 6,
            Weigher = static (_, v) => v.Length,
        });

        cache.Set(1, "a");
        cache.Set(2, "b");
        cache.Set(3, "c");
        cache.Set(4, "d");
        Assert.Equal(3, cache.Count);

        cache.Set(5, "eeeee");
        Assert.True(cache.Weight <= 6);
        Assert.True(cache.ContainsKey(5));
    }

    [Fact]
    public void Set_ZeroWeight_IsStoredAndCountsAgainstCountOnly()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 2,
            MaximumWeight = 1,
            Weigher = static (_, _) => 0,
        });

        cache.Set(1, "a");
        cache.Set(2, "b");
        cache.Set(3, "c");

        Assert.Equal(2, cache.Count);
        Assert.Equal(0, cache.Weight);
    }

    [Fact]
    public void Set_HeavierThanBound_RejectedEvictsNothingAndRemovesPreviousValue()
    {
        using BoundedCache<int, string> cache = NewWeighted(10);
        var removed = new List<(int, string, RemovalReason)>();
        cache.EntryRemoved += (_, e) => removed.Add((e.Key, e.Value, e.Reason));
        cache.Set(1, "aaaa");
        cache.Set(2, "bbbb");

        cache.Set(2, new string('x', 11));

        Assert.Equal([(2, "bbbb", RemovalReason.Replaced), (2, new string('x', 11), RemovalReason.Rejected)], removed);
        Assert.True(cache.ContainsKey(1));
        Assert.False(cache.ContainsKey(2));
        Assert.Equal(4, cache.Weight);
        Assert.Equal(1, cache.GetStatistics().Rejections);
    }

    [Fact]
    public void Set_Weighted_EvictsUntilNewEntryFits()
    {
        using BoundedCache<int, string> cache = NewWeighted(10);
        cache.Set(1, "aaaa");
        cache.Set(2, "bbbb");

        cache.Set(3, "cccccc");

        // One of the two lighter entries had to go (LRU: the older; TinyLfu: the refused candidate), and no more.
        Assert.True(cache.ContainsKey(3));
        Assert.Equal(2, cache.Count);
        Assert.Equal(10, cache.Weight);
    }

    [Fact]
    public void TryRemove_Existing_RemovesAndReportsRemoved()
    {
        using BoundedCache<int, string> cache = NewCache();
        RemovalReason? reason = null;
        cache.EntryRemoved += (_, e) => reason = e.Reason;
        cache.Set(1, "a");

        Assert.True(cache.TryRemove(1));
        Assert.False(cache.TryRemove(1));
        Assert.Equal(RemovalReason.Removed, reason);
        Assert.Equal(0, cache.Count);
        Assert.Equal(1, cache.GetStatistics().Removals);
    }

    [Fact]
    public void TryRemove_WithValue_ReturnsRemovedValue()
    {
        using BoundedCache<int, string> cache = NewCache();
        cache.Set(1, "a");

        Assert.True(cache.TryRemove(1, out string? value));
        Assert.Equal("a", value);
        Assert.False(cache.TryRemove(1, out _));
    }

    [Fact]
    public void TryRemove_Expired_PurgesAndReturnsFalse()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, string> cache = NewCache(configure: o => (o.ExpireAfterWrite, o.TimeProvider) = (TimeSpan.FromSeconds(1), clock));
        RemovalReason? reason = null;
        cache.EntryRemoved += (_, e) => reason = e.Reason;
        cache.Set(1, "a");
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.False(cache.TryRemove(1));
        Assert.Equal(RemovalReason.Expired, reason);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Clear_RemovesAllWithReasonCleared()
    {
        using BoundedCache<int, string> cache = NewCache();
        var reasons = new List<RemovalReason>();
        cache.EntryRemoved += (_, e) => reasons.Add(e.Reason);
        cache.Set(1, "a");
        cache.Set(2, "b");

        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Weight);
        Assert.Equal([RemovalReason.Cleared, RemovalReason.Cleared], reasons);
        Assert.Empty(cache);
    }

    [Fact]
    public void Enumeration_IsSnapshotMostRecentFirst()
    {
        using BoundedCache<int, string> cache = NewCache();
        cache.Set(1, "a");
        cache.Set(2, "b");
        cache.Set(3, "c");
        cache.TryGet(1, out _);

        var seen = new List<int>();
        foreach (KeyValuePair<int, string> pair in cache)
        {
            seen.Add(pair.Key);
            cache.Set(10 + pair.Key, "x");
        }

        Assert.Equal([1, 3, 2], seen);
    }

    [Fact]
    public void Enumeration_SkipsExpired()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, string> cache = NewCache(configure: o => (o.ExpireAfterAccess, o.TimeProvider) = (TimeSpan.FromSeconds(5), clock));
        cache.Set(1, "a");
        clock.Advance(TimeSpan.FromSeconds(3));
        cache.Set(2, "b");
        clock.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal([2], cache.Select(p => p.Key));
    }

    [Fact]
    public void GetStatistics_ReportsFigures()
    {
        using BoundedCache<int, string> cache = NewCache(configure: o => o.Name = "stats");
        cache.Set(1, "a");
        cache.TryGet(1, out _);
        cache.TryGet(2, out _);

        CacheStatistics statistics = cache.GetStatistics();

        Assert.Equal("stats", statistics.Name);
        Assert.Equal(1, statistics.Hits);
        Assert.Equal(1, statistics.Misses);
        Assert.Equal(2, statistics.Lookups);
        Assert.Equal(0.5, statistics.HitRatio);
        Assert.Equal(1, statistics.EntryCount);
        Assert.Equal(1, statistics.Weight);
        Assert.Equal(3, statistics.MaximumCount);
        Assert.Null(statistics.MaximumWeight);
        Assert.Contains("stats", statistics.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExpireAfterWrite_PastDeadline_NotReturnedEvenIfRead()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, string> cache = NewCache(configure: o => (o.ExpireAfterWrite, o.TimeProvider) = (TimeSpan.FromSeconds(10), clock));
        cache.Set(1, "a");
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.True(cache.TryGet(1, out _));
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.False(cache.TryGet(1, out _));
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(0, cache.Count);
        Assert.Equal(1, cache.GetStatistics().Expirations);
    }

    [Fact]
    public void ExpireAfterAccess_ReadsExtendLife()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, string> cache = NewCache(configure: o => (o.ExpireAfterAccess, o.TimeProvider) = (TimeSpan.FromSeconds(10), clock));
        cache.Set(1, "a");
        for (int i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(9));
            Assert.True(cache.TryGet(1, out _));
        }

        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.False(cache.TryGet(1, out _));
    }

    [Fact]
    public void Set_PurgesExpiredEntriesBeforeEvictingLiveOnes()
    {
        var clock = new FakeTimeProvider();
        using BoundedCache<int, string> cache = NewCache(maximumCount: 2, configure: o => (o.ExpireAfterWrite, o.TimeProvider) = (TimeSpan.FromSeconds(10), clock));
        var removed = new List<(int, RemovalReason)>();
        cache.EntryRemoved += (_, e) => removed.Add((e.Key, e.Reason));
        cache.Set(1, "a");
        clock.Advance(TimeSpan.FromSeconds(5));
        cache.Set(2, "b");
        cache.TryGet(1, out _);
        clock.Advance(TimeSpan.FromSeconds(5));

        cache.Set(3, "c");

        Assert.Equal([(1, RemovalReason.Expired)], removed);
        Assert.True(cache.ContainsKey(2));
    }

    [Fact]
    public void EntryRemoved_UnsubscribedHandler_NotCalled()
    {
        using BoundedCache<int, string> cache = NewCache();
        int calls = 0;
        void Handler(object? sender, CacheEntryRemovedEventArgs<int, string> e) => calls++;
        cache.EntryRemoved += Handler;
        cache.EntryRemoved -= Handler;
        cache.Set(1, "a");

        cache.TryRemove(1);

        Assert.Equal(0, calls);
    }

    [Fact]
    public void EntryRemoved_HandlerMayCallTheCache()
    {
        using BoundedCache<int, string> cache = NewCache(maximumCount: 2);
        cache.EntryRemoved += (_, e) =>
        {
            if (e.Reason == RemovalReason.Evicted && e.Key == 1)
            {
                cache.Set(100 + e.Key, "moved");
            }
        };
        cache.Set(1, "a");
        cache.Set(2, "b");
        cache.TryGet(2, out _);
        cache.TryGet(2, out _);

        cache.Set(3, "c");

        // 3 evicted 1 (least recent, and less frequent than 2 by more than one use); the handler's write of 101 then
        // evicted another.
        Assert.Equal(2, cache.Count);
        Assert.True(cache.ContainsKey(101));
        Assert.False(cache.ContainsKey(1));
    }

    [Fact]
    public async Task Dispose_ThenEveryMember_Throws()
    {
        BoundedCache<int, string> cache = NewCache();
        cache.Set(1, "a");
        cache.Dispose();
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.TryGet(1, out _));
        Assert.Throws<ObjectDisposedException>(() => cache.Set(1, "x"));
        Assert.Throws<ObjectDisposedException>(() => cache.GetOrAdd(1, _ => "x"));
        Assert.Throws<ObjectDisposedException>(() => cache.GetOrAdd(1, (_, a) => a, "x"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.GetOrAddAsync(1, (_, _) => ValueTask.FromResult("x")).AsTask());
        Assert.Throws<ObjectDisposedException>(() => cache.TryRemove(1));
        Assert.Throws<ObjectDisposedException>(() => cache.TryRemove(1, out _));
        Assert.Throws<ObjectDisposedException>(() => cache.ContainsKey(1));
        Assert.Throws<ObjectDisposedException>(() => cache.TryLease(1, out _));
        Assert.Throws<ObjectDisposedException>(cache.Clear);
        Assert.Throws<ObjectDisposedException>(() => cache.Count);
        Assert.Throws<ObjectDisposedException>(() => cache.Weight);
        Assert.Throws<ObjectDisposedException>(cache.GetStatistics);
        Assert.Throws<ObjectDisposedException>(() => cache.GetEnumerator());
        Assert.Throws<ObjectDisposedException>(() => cache.EntryRemoved += (_, _) => { });
        Assert.Throws<ObjectDisposedException>(() => cache.Set(1, "x", new CacheEntryPolicy(null, null, null)));
        Assert.Throws<ObjectDisposedException>(() => cache.TryRemove(1, "x", RemovalReason.Removed));
    }

    [Fact]
    public void Dispose_DoesNotRaiseEntryRemoved()
    {
        BoundedCache<int, string> cache = NewCache();
        int calls = 0;
        cache.EntryRemoved += (_, _) => calls++;
        cache.Set(1, "a");

        cache.Dispose();

        Assert.Equal(0, calls);
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : BoundedCacheTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : BoundedCacheTests(EvictionPolicy.TinyLfu);
}

/// <summary>What only the LRU policy promises: which entry a write evicts (TinyLfu's choices: <see cref="TinyLfuOrderTests"/>).</summary>
public sealed class BoundedCacheLruOrderTests
{
    private static BoundedCache<int, string> NewCache(int maximumCount = 3) => new(new BoundedCacheOptions<int, string> { EvictionPolicy = EvictionPolicy.Lru, MaximumCount = maximumCount });

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
        Assert.Equal(1, cache.GetStatistics().Evictions);
    }

    [Fact]
    public void ContainsKey_DoesNotCountOrTouch()
    {
        using BoundedCache<int, string> cache = NewCache(maximumCount: 2);
        cache.Set(1, "a");
        cache.Set(2, "b");

        Assert.True(cache.ContainsKey(1));
        cache.Set(3, "c");

        Assert.False(cache.ContainsKey(1));
        Assert.Equal(0, cache.GetStatistics().Lookups);
    }
}
