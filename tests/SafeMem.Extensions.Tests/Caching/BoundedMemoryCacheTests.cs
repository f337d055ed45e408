using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using SafeMem.Extensions.Caching;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>
/// What <see cref="BoundedMemoryCache"/> does beyond the shared <see cref="MemoryCacheContractTests"/>, and the
/// differences from <see cref="MemoryCache"/> that are intentional: each "WhereMemoryCache" test shows both.
/// </summary>
public sealed class BoundedMemoryCacheTests
{
    private readonly FakeTimeProvider _clock = new();

    // ---- Intentional differences from MemoryCache ----

    [Fact]
    public void Set_AtWeightLimit_AdmitsNewEntryAndEvictsLeastRecentlyUsed_WhereMemoryCacheRejectsIt()
    {
        using var memoryCache = new MemoryCache(new MemoryCacheOptions { SizeLimit = 2 });
        using BoundedMemoryCache bounded = Create(maximumWeight: 2);
        foreach (IMemoryCache cache in new IMemoryCache[] { memoryCache, bounded })
        {
            cache.Set("a", 1, new MemoryCacheEntryOptions { Size = 1 });
            cache.Set("b", 2, new MemoryCacheEntryOptions { Size = 1 });
            cache.TryGetValue("a", out _);
            cache.Set("c", 3, new MemoryCacheEntryOptions { Size = 1 });
        }

        // MemoryCache refuses the new entry at the limit (and compacts later, on the thread pool).
        Assert.False(memoryCache.TryGetValue("c", out _));

        // BoundedMemoryCache stores it and has already evicted the least recently used entry ("b", since "a" was read).
        Assert.True(bounded.TryGetValue("c", out _));
        Assert.True(bounded.TryGetValue("a", out _));
        Assert.False(bounded.TryGetValue("b", out _));
        Assert.Equal(2, bounded.Weight);
    }

    [Fact]
    public void Set_WithoutSizeUnderWeightBound_UsesDefaultEntryWeight_WhereMemoryCacheThrows()
    {
        using var memoryCache = new MemoryCache(new MemoryCacheOptions { SizeLimit = 10 });
        using BoundedMemoryCache bounded = Create(maximumWeight: 10, defaultEntryWeight: 3);

        Assert.Throws<InvalidOperationException>(() => memoryCache.Set("k", 1));

        bounded.Set("k", 1);
        Assert.Equal(3, bounded.Weight);
    }

    [Fact]
    public void PostEvictionCallbacks_RunBeforeTheRemovingCallReturns_WhereMemoryCacheRunsThemLater()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        var reasons = new List<EvictionReason>();
        cache.Set("k", 1, new MemoryCacheEntryOptions().RegisterPostEvictionCallback((_, _, reason, _) => reasons.Add(reason)));

        cache.Remove("k");

        // No waiting: the callback has run on this thread already.
        Assert.Equal([EvictionReason.Removed], reasons);
    }

    [Fact]
    public void Priority_NeverRemove_IsEvictedLikeAnyOther_WhereMemoryCacheWouldKeepIt()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 1);
        cache.Set("pinned", 1, new MemoryCacheEntryOptions { Priority = CacheItemPriority.NeverRemove });

        cache.Set("next", 2);

        Assert.False(cache.TryGetValue("pinned", out _));
        Assert.Equal(1, cache.Count);
    }

    // ---- Bounds and weights ----

    [Fact]
    public void Set_OverMaximumCount_EvictsLeastRecentlyUsedWithReasonCapacity()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 2);
        var recorder = new EvictionRecorder();
        cache.Set("a", 1, recorder.Attach(new MemoryCacheEntryOptions()));
        cache.Set("b", 2);

        cache.Set("c", 3);

        EvictionRecorder.Eviction eviction = recorder.Next();
        Assert.Equal(("a", EvictionReason.Capacity), (eviction.Key, eviction.Reason));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Set_EntryHeavierThanMaximumWeight_IsNotStoredAndEvictsNothing()
    {
        using BoundedMemoryCache cache = Create(maximumWeight: 10);
        cache.Set("small", 1, new MemoryCacheEntryOptions { Size = 4 });
        var recorder = new EvictionRecorder();

        cache.Set("huge", 2, recorder.Attach(new MemoryCacheEntryOptions { Size = 11 }));

        EvictionRecorder.Eviction eviction = recorder.Next();
        Assert.Equal(("huge", EvictionReason.Capacity), (eviction.Key, eviction.Reason));
        Assert.False(cache.TryGetValue("huge", out _));
        Assert.True(cache.TryGetValue("small", out _));
        Assert.Equal(4, cache.Weight);
    }

    [Fact]
    public void Size_Given_IsTheEntryWeight()
    {
        using BoundedMemoryCache cache = Create(maximumWeight: 100, defaultEntryWeight: 1);
        cache.Set("a", 1, new MemoryCacheEntryOptions { Size = 40 });
        cache.Set("b", 1);

        Assert.Equal(41, cache.Weight);
        Assert.Equal(41, cache.GetCurrentStatistics()!.CurrentEstimatedSize);
    }

    // ---- Expiration ----

    [Fact]
    public void AbsoluteExpiration_BothAbsoluteAndRelative_EarlierWins()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        cache.Set("k", 1, new MemoryCacheEntryOptions
        {
            AbsoluteExpiration = _clock.GetUtcNow().AddMinutes(1),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10),
        });

        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void AbsoluteExpiration_AlreadyPastAtCommit_StoresNothingRemovesPreviousAndReportsExpired()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        cache.Set("k", "previous");
        var recorder = new EvictionRecorder();

        cache.Set("k", "stale", recorder.Attach(new MemoryCacheEntryOptions { AbsoluteExpiration = _clock.GetUtcNow().AddSeconds(-1) }));

        Assert.Equal(EvictionReason.Expired, recorder.Next().Reason);
        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void ExpirationToken_FiresAfterKeyWasRewritten_LeavesTheNewerEntry()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        using var source = new CancellationTokenSource();
        var recorder = new EvictionRecorder();
        cache.Set("k", "old", recorder.Attach(new MemoryCacheEntryOptions().AddExpirationToken(new CancellationChangeToken(source.Token))));
        cache.Set("k", "new");
        Assert.Equal(EvictionReason.Replaced, recorder.Next().Reason);

        source.Cancel();

        Assert.Equal("new", cache.Get("k"));
        Assert.Empty(recorder.Seen);
    }

    [Fact]
    public void ExpirationToken_PollingToken_IsCheckedOnRead()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        var token = new PollingToken();
        var recorder = new EvictionRecorder();
        cache.Set("k", 1, recorder.Attach(new MemoryCacheEntryOptions().AddExpirationToken(token)));
        Assert.True(cache.TryGetValue("k", out _));

        token.HasChanged = true;

        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(EvictionReason.TokenExpired, recorder.Next().Reason);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void ExpirationToken_EntryRemoved_RegistrationIsDisposed()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        var token = new CountingToken();
        cache.Set("k", 1, new MemoryCacheEntryOptions().AddExpirationToken(token));
        Assert.Equal(1, token.LiveRegistrations);

        cache.Remove("k");

        Assert.Equal(0, token.LiveRegistrations);
    }

    // ---- Callbacks, user code that throws, re-entrancy ----

    [Fact]
    public void PostEvictionCallback_Throws_RemovalCompletesOtherCallbacksRunThenRethrows()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        var recorder = new EvictionRecorder();
        using (ICacheEntry entry = cache.CreateEntry("k"))
        {
            entry.RegisterPostEvictionCallback((_, _, _, _) => throw new InvalidOperationException("callback failed"));
            recorder.Attach(entry).Value = 1;
        }

        cache.Set("other", 2);

        Exception thrown = Assert.ThrowsAny<Exception>(() => cache.Remove("k"));
        Assert.Contains("callback failed", thrown.ToString(), StringComparison.Ordinal);
        Assert.Equal(EvictionReason.Removed, recorder.Next().Reason);
        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(2, cache.Get("other"));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void PostEvictionCallback_ThrowsWhileCommittingAnother_TheCommittedEntrysTokensStillWork()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 1);
        cache.Set("a", 1, new MemoryCacheEntryOptions().RegisterPostEvictionCallback((_, _, _, _) => throw new InvalidOperationException("callback failed")));
        using var source = new CancellationTokenSource();
        var recorder = new EvictionRecorder();

        // Committing "b" evicts "a", whose callback throws out of the commit.
        Assert.Throws<InvalidOperationException>(() => cache.Set("b", 2, recorder.Attach(new MemoryCacheEntryOptions().AddExpirationToken(new CancellationChangeToken(source.Token)))));
        Assert.Equal(2, cache.Get("b"));

        source.Cancel();

        Assert.Equal(EvictionReason.TokenExpired, recorder.Next().Reason);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void PostEvictionCallback_WritesBackIntoTheCache_DoesNotDeadlock()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        cache.Set("k", 1, new MemoryCacheEntryOptions().RegisterPostEvictionCallback((key, value, reason, state) =>
        {
            if (reason == EvictionReason.Removed)
            {
                ((IMemoryCache)state!).Set("restored", value);
            }
        }, cache));

        cache.Remove("k");

        Assert.Equal(1, cache.Get("restored"));
    }

    [Fact]
    public void Clear_RemovesEverythingWithReasonRemoved()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        var recorder = new EvictionRecorder();
        cache.Set("a", 1, recorder.Attach(new MemoryCacheEntryOptions()));
        cache.Set("b", 2);

        cache.Clear();

        Assert.Equal(EvictionReason.Removed, recorder.Next().Reason);
        Assert.Equal((0, 0L), (cache.Count, cache.Weight));
    }

    // ---- Construction, statistics, disposal ----

    [Fact]
    public void Constructor_NullOptions_ThrowsArgumentNullException()
        => Assert.Throws<ArgumentNullException>(() => new BoundedMemoryCache(null!));

    [Fact]
    public void Constructor_NoBound_ThrowsArgumentException()
        => Assert.Throws<ArgumentException>(() => new BoundedMemoryCache(new BoundedMemoryCacheOptions()));

    [Fact]
    public void Constructor_OptionsThroughIOptions_AreUsed()
    {
        using var cache = new BoundedMemoryCache(Options.Create(new BoundedMemoryCacheOptions { Name = "through-options", MaximumCount = 3 }));

        Assert.Equal(("through-options", (int?)3, (long?)null), (cache.Name, cache.MaximumCount, cache.MaximumWeight));
    }

    [Fact]
    public void GetCurrentStatistics_TrackStatisticsNotSet_ReturnsNullAsMemoryCacheDoes()
    {
        // Issue 20.12: MemoryCache reports statistics only when asked to (TrackStatistics); so does the adapter, while
        // the engine's own figures stay available.
        using var memoryCache = new MemoryCache(new MemoryCacheOptions());
        using var cache = new BoundedMemoryCache(new BoundedMemoryCacheOptions { MaximumCount = 10, TimeProvider = _clock });
        cache.Set("a", 1);
        cache.TryGetValue("a", out _);
        cache.TryGetValue("b", out _);

        Assert.Null(memoryCache.GetCurrentStatistics());
        Assert.Null(cache.GetCurrentStatistics());
        Assert.Equal((1L, 1L), (cache.GetStatistics().Hits, cache.GetStatistics().Misses));
    }

    [Fact]
    public void GetCurrentStatistics_TrackStatisticsNotSetAndDisposed_Throws()
    {
        var cache = new BoundedMemoryCache(new BoundedMemoryCacheOptions { MaximumCount = 10 });
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.GetCurrentStatistics());
    }

    [Fact]
    public void GetCurrentStatistics_AfterEviction_ReportsCountWeightHitsMisses()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 2, maximumWeight: 10);
        cache.Set("a", 1);
        cache.Set("b", 2);
        cache.Set("c", 3);
        cache.TryGetValue("c", out _);
        cache.TryGetValue("a", out _);

        MemoryCacheStatistics statistics = cache.GetCurrentStatistics()!;

        Assert.Equal((1L, 1L, 2L, 2L), (statistics.TotalHits, statistics.TotalMisses, statistics.CurrentEntryCount, statistics.CurrentEstimatedSize ?? -1));
    }

    [Fact]
    public void Dispose_StopsListeningToTokensAndRunsNoCallbacks()
    {
        var cache = Create(maximumCount: 10);
        var token = new CountingToken();
        var recorder = new EvictionRecorder();
        cache.Set("k", 1, recorder.Attach(new MemoryCacheEntryOptions().AddExpirationToken(token)));

        cache.Dispose();

        Assert.Equal(0, token.LiveRegistrations);
        Assert.Empty(recorder.Seen);
        Assert.Throws<ObjectDisposedException>(() => cache.Remove("k"));
        Assert.Throws<ObjectDisposedException>(() => cache.Set("k", 2));
        Assert.Throws<ObjectDisposedException>(() => cache.GetCurrentStatistics());
    }

    [Fact]
    public void Dispose_TokenFiresAfterwards_NothingThrows()
    {
        using var source = new CancellationTokenSource();
        BoundedMemoryCache cache = Create(maximumCount: 10);
        cache.Set("k", 1, new CancellationChangeToken(source.Token));
        cache.Dispose();

        source.Cancel();

        Assert.Throws<ObjectDisposedException>(() => cache.TryGetValue("k", out _));
    }

    // ---- Telemetry ----

    [Fact]
    public void MeterFactory_Given_EngineInstrumentsReportOnItTaggedWithTheName()
    {
        using var factory = new TestMeterFactory();
        using var cache = new BoundedMemoryCache(new BoundedMemoryCacheOptions
        {
            Name = "metered",
            MaximumCount = 1,
            MeterFactory = factory,
        });
        using var recorder = new MetricRecorder(Assert.Single(factory.Meters));
        cache.Set("a", 1);
        cache.Set("b", 2);
        cache.TryGetValue("b", out _);
        cache.TryGetValue("a", out _);

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.requests", "metered", (SafeMemTags.CacheResult, "hit")));
        Assert.Equal(1, recorder.ObserveValue("safemem.cache.requests", "metered", (SafeMemTags.CacheResult, "miss")));
        Assert.Equal(1, recorder.ObserveValue("safemem.cache.removals", "metered", (SafeMemTags.CacheRemovalReason, "evicted")));
        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", "metered"));
        Assert.Equal(1, cache.GetStatistics().Evictions);
    }

    // ---- GC: what the cache lets go of (each with a control) ----

    [Fact]
    public void EvictedValue_IsCollectable()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 1);
        WeakReference value = SetTracked(cache, "k");

        cache.Set("other", new object());

        GcAssert.Collected(value);
    }

    [Fact]
    public void StoredValue_Control_StaysAlive()
    {
        using BoundedMemoryCache cache = Create(maximumCount: 1);
        WeakReference value = SetTracked(cache, "k");

        GcAssert.Alive(value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void RemovedEntry_WithLongLivedToken_ValueIsCollectable()
    {
        using var longLived = new CancellationTokenSource();
        using BoundedMemoryCache cache = Create(maximumCount: 10);
        WeakReference value = SetTracked(cache, "k", new CancellationChangeToken(longLived.Token));

        cache.Remove("k");

        GcAssert.Collected(value);
        GC.KeepAlive(longLived);
    }

    [Fact]
    public void DroppedCache_WithLongLivedToken_IsCollectable()
    {
        using var longLived = new CancellationTokenSource();
        WeakReference cache = CreateDroppedCacheWithToken(longLived.Token, bounded: true);

        GcAssert.Collected(cache);
        GC.KeepAlive(longLived);
    }

    [Fact]
    public void DroppedMemoryCache_Control_WithLongLivedToken_StaysAlive()
    {
        // The leak this adapter avoids: MemoryCache registers its entries (which reference the cache) with the token.
        using var longLived = new CancellationTokenSource();
        WeakReference cache = CreateDroppedCacheWithToken(longLived.Token, bounded: false);

        GcAssert.Alive(cache);
        GC.KeepAlive(longLived);
    }

    private BoundedMemoryCache Create(int? maximumCount = null, long? maximumWeight = null, long defaultEntryWeight = 1)
        => new(new BoundedMemoryCacheOptions
        {
            Name = "adapter-tests",
            MaximumCount = maximumCount,
            MaximumWeight = maximumWeight,
            DefaultEntryWeight = defaultEntryWeight,
            TimeProvider = _clock,
            TrackStatistics = true,
        });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SetTracked(IMemoryCache cache, object key, IChangeToken? token = null)
    {
        var value = new byte[1024];
        using (ICacheEntry entry = cache.CreateEntry(key))
        {
            if (token is not null)
            {
                entry.ExpirationTokens.Add(token);
            }

            entry.Value = value;
        }

        return new WeakReference(value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateDroppedCacheWithToken(CancellationToken token, bool bounded)
    {
        IMemoryCache cache = bounded
            ? new BoundedMemoryCache(new BoundedMemoryCacheOptions { Name = "dropped", MaximumCount = 10 })
            : new MemoryCache(new MemoryCacheOptions());
        cache.Set("k", new byte[1024], new CancellationChangeToken(token));
        return new WeakReference(cache);
    }

    /// <summary>A token that cannot call back: caches must poll <see cref="HasChanged"/>.</summary>
    internal sealed class PollingToken : IChangeToken
    {
        public bool HasChanged { get; set; }

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state)
            => throw new InvalidOperationException("A polling token must not be registered with.");
    }

    /// <summary>A token that never fires and counts live registrations.</summary>
    private sealed class CountingToken : IChangeToken
    {
        private int _live;

        public int LiveRegistrations => Volatile.Read(ref _live);

        public bool HasChanged => false;

        public bool ActiveChangeCallbacks => true;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state)
        {
            Interlocked.Increment(ref _live);
            return new Registration(this);
        }

        private sealed class Registration(CountingToken owner) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Interlocked.Decrement(ref owner._live);
                }
            }
        }
    }
}
