using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>
/// The behaviour code written against <see cref="IMemoryCache"/> relies on, written once and run against both
/// <see cref="MemoryCache"/> (<see cref="MemoryCacheContractOnMemoryCacheTests"/>) and <c>BoundedMemoryCache</c>
/// (<c>MemoryCacheContractOnBoundedMemoryCacheTests</c>). Where the two differ on purpose, the difference is an
/// explicit test in <c>BoundedMemoryCacheTests</c>, not a branch here.
/// </summary>
public abstract class MemoryCacheContractTests : IDisposable
{
    private readonly List<IMemoryCache> _caches = [];

    protected FakeTimeProvider Clock { get; } = new();

    public void Dispose()
    {
        foreach (IMemoryCache cache in _caches)
        {
            cache.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Set_ThenTryGetValue_ReturnsTheValue()
    {
        IMemoryCache cache = Create();
        cache.Set("k", 42);

        Assert.True(cache.TryGetValue("k", out object? value));
        Assert.Equal(42, value);
    }

    [Fact]
    public void TryGetValue_MissingKey_ReturnsFalse()
    {
        IMemoryCache cache = Create();

        Assert.False(cache.TryGetValue("missing", out object? value));
        Assert.Null(value);
    }

    [Fact]
    public void Set_NullValue_IsStoredAndReturned()
    {
        IMemoryCache cache = Create();
        cache.Set<string?>("k", null);

        Assert.True(cache.TryGetValue("k", out object? value));
        Assert.Null(value);
    }

    [Fact]
    public void Set_SameKey_ReplacesValueAndReportsReplaced()
    {
        IMemoryCache cache = Create();
        var recorder = new EvictionRecorder();
        cache.Set("k", "old", recorder.Attach(new MemoryCacheEntryOptions()));

        cache.Set("k", "new");

        Assert.Equal("new", cache.Get("k"));
        EvictionRecorder.Eviction eviction = recorder.Next();
        Assert.Equal(("k", "old", EvictionReason.Replaced), (eviction.Key, eviction.Value, eviction.Reason));
    }

    [Fact]
    public void Remove_Existing_RemovesAndReportsRemoved()
    {
        IMemoryCache cache = Create();
        var recorder = new EvictionRecorder();
        cache.Set("k", "v", recorder.Attach(new MemoryCacheEntryOptions()));

        cache.Remove("k");

        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(EvictionReason.Removed, recorder.Next().Reason);
    }

    [Fact]
    public void Remove_MissingKey_DoesNothing()
    {
        IMemoryCache cache = Create();
        cache.Set("other", 1);

        cache.Remove("missing");

        Assert.Equal(1, cache.Get("other"));
    }

    [Fact]
    public void CreateEntry_NotDisposed_StoresNothing()
    {
        IMemoryCache cache = Create();
        ICacheEntry entry = cache.CreateEntry("k");
        entry.Value = 1;

        Assert.False(cache.TryGetValue("k", out _));
        GC.KeepAlive(entry);
    }

    [Fact]
    public void CreateEntry_DisposedWithValue_CommitsOnce()
    {
        IMemoryCache cache = Create();
        ICacheEntry entry = cache.CreateEntry("k");
        entry.Value = 1;
        entry.Dispose();
        entry.Dispose();

        Assert.Equal(1, cache.Get("k"));
    }

    [Fact]
    public void CreateEntry_DisposedWithoutValue_StoresNothing()
    {
        IMemoryCache cache = Create();
        cache.CreateEntry("k").Dispose();

        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void GetOrCreate_Miss_RunsFactoryOnceAndStores()
    {
        IMemoryCache cache = Create();
        int calls = 0;

        int first = cache.GetOrCreate("k", _ => ++calls * 10);
        int second = cache.GetOrCreate("k", _ => ++calls * 10);

        Assert.Equal((10, 10, 1), (first, second, calls));
    }

    [Fact]
    public void GetOrCreate_FactoryThrows_StoresNothingAndRethrows()
    {
        IMemoryCache cache = Create();

        Assert.Throws<InvalidOperationException>(() => cache.GetOrCreate<int>("k", _ => throw new InvalidOperationException("boom")));

        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(7, cache.GetOrCreate("k", _ => 7));
    }

    [Fact]
    public async Task GetOrCreateAsync_Miss_AwaitsFactoryAndStores()
    {
        IMemoryCache cache = Create();

        int value = await cache.GetOrCreateAsync("k", async entry =>
        {
            await Task.Yield();
            entry.SlidingExpiration = TimeSpan.FromMinutes(1);
            return 5;
        });

        Assert.Equal(5, value);
        Assert.Equal(5, cache.Get("k"));
    }

    [Fact]
    public void AbsoluteExpirationRelativeToNow_ClockPassesIt_EntryExpires()
    {
        IMemoryCache cache = Create();
        var recorder = new EvictionRecorder();
        cache.Set("k", "v", recorder.Attach(new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) }));

        Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.TryGetValue("k", out _));

        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(EvictionReason.Expired, recorder.Next().Reason);
    }

    [Fact]
    public void AbsoluteExpiration_ClockPassesIt_EntryExpires()
    {
        IMemoryCache cache = Create();
        cache.Set("k", "v", Clock.GetUtcNow().AddMinutes(5));

        Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.True(cache.TryGetValue("k", out _));

        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void SlidingExpiration_ReadWithinWindow_KeepsEntry()
    {
        IMemoryCache cache = Create();
        cache.Set("k", "v", new MemoryCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });

        for (int i = 0; i < 5; i++)
        {
            Clock.Advance(TimeSpan.FromSeconds(50));
            Assert.True(cache.TryGetValue("k", out _));
        }
    }

    [Fact]
    public void SlidingExpiration_NotReadForWindow_EntryExpires()
    {
        IMemoryCache cache = Create();
        cache.Set("k", "v", new MemoryCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });

        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void SlidingExpiration_WithAbsoluteCap_ExpiresAtTheCapDespiteReads()
    {
        IMemoryCache cache = Create();
        cache.Set("k", "v", new MemoryCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(1),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(2),
        });

        Clock.Advance(TimeSpan.FromSeconds(50));
        Assert.True(cache.TryGetValue("k", out _));
        Clock.Advance(TimeSpan.FromSeconds(50));
        Assert.True(cache.TryGetValue("k", out _));
        Clock.Advance(TimeSpan.FromSeconds(20));

        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void ExpirationToken_Fires_EntryLeavesWithTokenExpired()
    {
        IMemoryCache cache = Create();
        var recorder = new EvictionRecorder();
        using var source = new CancellationTokenSource();
        cache.Set("k", "v", recorder.Attach(new MemoryCacheEntryOptions().AddExpirationToken(new CancellationChangeToken(source.Token))));
        Assert.True(cache.TryGetValue("k", out _));

        source.Cancel();

        Assert.False(cache.TryGetValue("k", out _));
        Assert.Equal(EvictionReason.TokenExpired, recorder.Next().Reason);
    }

    [Fact]
    public void ExpirationToken_AlreadyFired_EntryIsNotReturned()
    {
        IMemoryCache cache = Create();
        using var source = new CancellationTokenSource();
        source.Cancel();

        cache.Set("k", "v", new CancellationChangeToken(source.Token));

        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void PostEvictionCallback_GetsKeyValueAndState()
    {
        IMemoryCache cache = Create();
        var recorder = new EvictionRecorder();
        object state = new();
        using (ICacheEntry entry = cache.CreateEntry("k"))
        {
            recorder.Attach(entry, state).Value = "v";
        }

        cache.Remove("k");

        EvictionRecorder.Eviction eviction = recorder.Next();
        Assert.Equal(("k", "v", EvictionReason.Removed), (eviction.Key, eviction.Value, eviction.Reason));
        Assert.Same(state, eviction.State);
    }

    [Fact]
    public void GetCurrentStatistics_CountsHitsMissesAndEntries()
    {
        IMemoryCache cache = Create();
        cache.Set("a", 1);
        cache.Set("b", 2);
        cache.TryGetValue("a", out _);
        cache.TryGetValue("a", out _);
        cache.TryGetValue("missing", out _);

        MemoryCacheStatistics statistics = cache.GetCurrentStatistics()!;

        Assert.Equal((2L, 1L, 2L), (statistics.TotalHits, statistics.TotalMisses, statistics.CurrentEntryCount));
    }

    [Fact]
    public void SizeLimit_EntriesWithinIt_AreAllKeptAndSized()
    {
        IMemoryCache cache = Create(sizeLimit: 10);
        for (int i = 0; i < 5; i++)
        {
            cache.Set(i, i, new MemoryCacheEntryOptions { Size = 2 });
        }

        for (int i = 0; i < 5; i++)
        {
            Assert.True(cache.TryGetValue(i, out _));
        }

        Assert.Equal(10, cache.GetCurrentStatistics()!.CurrentEstimatedSize);
    }

    [Fact]
    public void NullKey_EveryMember_ThrowsArgumentNullException()
    {
        IMemoryCache cache = Create();

        Assert.Throws<ArgumentNullException>(() => cache.TryGetValue(null!, out _));
        Assert.Throws<ArgumentNullException>(() => cache.CreateEntry(null!));
        Assert.Throws<ArgumentNullException>(() => cache.Remove(null!));
    }

    [Fact]
    public void Entry_InvalidSizeOrDurations_ThrowArgumentOutOfRange()
    {
        IMemoryCache cache = Create();
        using ICacheEntry entry = cache.CreateEntry("k");

        Assert.Throws<ArgumentOutOfRangeException>(() => entry.Size = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => entry.SlidingExpiration = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(-1));
    }

    [Fact]
    public void Disposed_TryGetValueAndCreateEntry_ThrowObjectDisposed()
    {
        IMemoryCache cache = Create();
        cache.Set("k", 1);

        cache.Dispose();
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.TryGetValue("k", out _));
        Assert.Throws<ObjectDisposedException>(() => cache.CreateEntry("k"));
    }

    [Fact]
    public void Set_AlreadyExpired_PreviousEntryReportsReplacedAndTheNewOneExpired()
    {
        IMemoryCache cache = Create();
        var previous = new EvictionRecorder();
        var stale = new EvictionRecorder();
        cache.Set("k", "previous", previous.Attach(new MemoryCacheEntryOptions()));

        cache.Set("k", "stale", stale.Attach(new MemoryCacheEntryOptions { AbsoluteExpiration = Clock.GetUtcNow().AddSeconds(-1) }));

        Assert.Equal(EvictionReason.Replaced, previous.Next().Reason);
        Assert.Equal(EvictionReason.Expired, stale.Next().Reason);
        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void Remove_ExpiredButNotYetPurged_ReportsRemoved()
    {
        IMemoryCache cache = Create();
        var recorder = new EvictionRecorder();
        cache.Set("k", "v", recorder.Attach(new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) }));
        Clock.Advance(TimeSpan.FromMinutes(2));

        cache.Remove("k");

        Assert.Equal(EvictionReason.Removed, recorder.Next().Reason);
        Assert.False(cache.TryGetValue("k", out _));
    }

    [Fact]
    public void CreateEntry_DisposedAfterTheCacheWasDisposed_IsIgnored()
    {
        IMemoryCache cache = Create();
        ICacheEntry entry = cache.CreateEntry("k");
        entry.Value = 1;
        var recorder = new EvictionRecorder();
        recorder.Attach(entry);

        cache.Dispose();
        entry.Dispose();

        Assert.Empty(recorder.Seen);
    }

    [Fact]
    public void Size_WithoutSizeLimit_IsAcceptedWhateverItIs()
    {
        IMemoryCache cache = Create();

        cache.Set("a", 1, new MemoryCacheEntryOptions { Size = long.MaxValue });
        cache.Set("b", 2, new MemoryCacheEntryOptions { Size = long.MaxValue });
        cache.Set("c", 3, new MemoryCacheEntryOptions { Size = 0 });

        Assert.Equal((1, 2, 3), (cache.Get("a"), cache.Get("b"), cache.Get("c")));
        Assert.Equal(3L, cache.GetCurrentStatistics()!.CurrentEntryCount);
        Assert.Null(cache.GetCurrentStatistics()!.CurrentEstimatedSize);
    }

    [Fact]
    public void TryGetValue_PollingTokenFired_ReturnsFalseAndCountsAMiss()
    {
        // Issue 20.3 (the adapter's twin): the engine had counted this lookup as a hit before the token was checked.
        IMemoryCache cache = Create();
        var token = new BoundedMemoryCacheTests.PollingToken();
        cache.Set("k", 1, new MemoryCacheEntryOptions().AddExpirationToken(token));
        Assert.True(cache.TryGetValue("k", out _));

        token.HasChanged = true;

        Assert.False(cache.TryGetValue("k", out _));
        MemoryCacheStatistics statistics = cache.GetCurrentStatistics()!;
        Assert.Equal((1L, 1L), (statistics.TotalHits, statistics.TotalMisses));
    }

    [Fact]
    public void CreateEntry_RelativeExpirationOnly_AbsoluteExpirationIsFilledInOnCommit()
    {
        // Issue 20.12: MemoryCache turns the relative expiration into the entry's AbsoluteExpiration when it commits.
        IMemoryCache cache = Create();
        DateTimeOffset now = Clock.GetUtcNow();
        ICacheEntry entry = cache.CreateEntry("k");
        entry.Value = 1;
        entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5);
        Assert.Null(entry.AbsoluteExpiration);

        entry.Dispose();

        Assert.Equal(now.AddMinutes(5), entry.AbsoluteExpiration);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 5)]
    public void CreateEntry_AbsoluteAndRelativeExpiration_AbsoluteExpirationReadsTheEarlierOnCommit(int absoluteMinutes, int expectedMinutes)
    {
        IMemoryCache cache = Create();
        DateTimeOffset now = Clock.GetUtcNow();
        ICacheEntry entry = cache.CreateEntry("k");
        entry.Value = 1;
        entry.AbsoluteExpiration = now.AddMinutes(absoluteMinutes);
        entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5);

        entry.Dispose();

        Assert.Equal(now.AddMinutes(expectedMinutes), entry.AbsoluteExpiration);
        Clock.Advance(TimeSpan.FromMinutes(expectedMinutes));
        Assert.False(cache.TryGetValue("k", out _));
    }

    /// <summary>Creates the cache under test on <see cref="Clock"/>; with <paramref name="sizeLimit"/>, bounded by total size.</summary>
    protected abstract IMemoryCache CreateCache(long? sizeLimit);

    private IMemoryCache Create(long? sizeLimit = null)
    {
        IMemoryCache cache = CreateCache(sizeLimit);
        _caches.Add(cache);
        return cache;
    }
}
