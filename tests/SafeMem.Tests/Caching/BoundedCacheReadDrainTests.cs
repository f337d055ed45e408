using System.Runtime.CompilerServices;
using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

/// <summary>
/// How TinyLfu hits reach the policy: recorded in the reader's ring of <see cref="RecencyClock.ReadBufferSize"/>, applied
/// by every write, and, when a ring is full, by one drain on the thread pool (the default) or on the reading thread
/// (the internal synchronous mode used by replays). Waits poll with a timeout; nothing here asserts a timing.
/// </summary>
public sealed class BoundedCacheReadDrainTests
{
    private const int Ring = RecencyClock.ReadBufferSize;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static BoundedCache<int, Payload> NewCache(bool drainReadsOnCaller = false, int maximumCount = 100)
        => new(new BoundedCacheOptions<int, Payload>
        {
            EvictionPolicy = EvictionPolicy.TinyLfu,
            PolicySeed = 1,
            DrainReadsOnCaller = drainReadsOnCaller,
            MaximumCount = maximumCount,
        });

    [Fact]
    public void Hits_WithoutAnyWrite_ReachThePolicyThroughTheThreadPool()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        cache.Set(1, new Payload());
        int before = FrequencyOf(cache, 1);
        for (int i = 0; i < Ring + 36; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        // No write follows: only the drain the full ring scheduled can bring the ring's 64 hits to the sketch (saturating
        // its counters at 15).
        WaitForDrain(cache);
        Assert.True(before < 15, $"the write alone gave frequency {before}");
        Assert.Equal(15, FrequencyOf(cache, 1));
        Assert.Equal(Ring + 36, cache.GetStatistics().Hits);
        Assert.Equal(0, cache.GetStatistics().Misses);
    }

    [Fact]
    public void FullRing_ByDefault_ReaderDropsTheRecordAndCountsTheHit()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        cache.Set(1, new Payload());
        for (int i = 0; i < Ring; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        // 64 records fit: nothing scheduled, nothing dropped.
        Assert.False(cache.IsReadDrainScheduled);
        Assert.Equal(Ring, cache.Clock.PendingReads);

        Assert.True(cache.TryGet(1, out _));

        // The 65th finds the ring full: counted as a hit, its record dropped, the drain left to the thread pool.
        Assert.Equal(1, cache.Clock.Dropped);
        Assert.Equal(Ring + 1, cache.GetStatistics().Hits);
        WaitForDrain(cache);
        Assert.Equal(0, cache.Clock.PendingReads);
    }

    [Fact]
    public void FullRing_DrainReadsOnCaller_ReaderDrainsEveryHitItself()
    {
        using BoundedCache<int, Payload> cache = NewCache(drainReadsOnCaller: true);
        cache.Set(1, new Payload());
        for (int i = 0; i < Ring + 1; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        // Synchronously: the 65th hit drained the 64 before it on this thread, then recorded itself; none dropped.
        Assert.Equal(1, cache.Clock.PendingReads);
        Assert.Equal(0, cache.Clock.Dropped);
        Assert.False(cache.IsReadDrainScheduled);
        Assert.Equal(15, FrequencyOf(cache, 1));

        for (int i = 0; i < 10 * Ring; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        Assert.Equal(0, cache.Clock.Dropped);
        Assert.Equal(11 * Ring + 1, cache.GetStatistics().Hits);
    }

    [Fact]
    public void Write_ByDefault_AppliesEveryRecordedHitFirst()
    {
        using BoundedCache<int, Payload> cache = NewCache(maximumCount: 2);
        var evicted = new List<int>();
        cache.EntryRemoved += (_, e) => evicted.Add(e.Key);
        cache.Set(1, new Payload());
        cache.Set(2, new Payload());
        for (int i = 0; i < 3; i++)
        {
            Assert.True(cache.TryGet(2, out _));
        }

        // The three hits sit in the ring (not full, nothing scheduled); the write drains them before its duel, so 2 (the
        // candidate, now more frequent) beats 1. Without them, ties keep the victim and 2 would be evicted.
        Assert.Equal(3, cache.Clock.PendingReads);
        cache.Set(3, new Payload());

        Assert.Equal([1], evicted);
        Assert.Equal(0, cache.Clock.PendingReads);
    }

    [Fact]
    public void Dispose_WhileADrainIsScheduled_DrainDoesNoHarmAndValuesAreCollectable()
    {
        BoundedCache<int, Payload> cache = NewCache();
        WeakReference value = SetAndScheduleDrainWhileLocked(cache, thenDispose: true);

        // The drain got the lock only after Dispose: it must find the cache disposed, leave the rings empty and finish.
        WaitForDrain(cache);
        Assert.Equal(0, cache.Clock.PendingReads);
        Assert.Throws<ObjectDisposedException>(() => cache.TryGet(1, out _));
        GcAssert.Collected(value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void Dispose_Control_WithoutDispose_TheDrainedCacheKeepsItsValue()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        WeakReference value = SetAndScheduleDrainWhileLocked(cache, thenDispose: false);

        WaitForDrain(cache);
        Assert.Equal(15, FrequencyOf(cache, 1));
        GcAssert.Alive(value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void DroppedCache_WithADrainScheduled_IsCollectedOnceTheDrainRan()
    {
        WeakReference cache = CreateReadAndDrop(holder: null);

        // The queued drain holds the cache until it runs (it is blocked on nothing now), then lets go.
        DateTime deadline = DateTime.UtcNow + s_timeout;
        while (!GcAssert.TryCollect(cache, attempts: 2) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        GcAssert.Collected(cache);
    }

    [Fact]
    public void DroppedCache_Control_HeldCacheStaysAliveAfterItsDrain()
    {
        var holder = new List<BoundedCache<int, Payload>>();
        WeakReference cache = CreateReadAndDrop(holder);
        WaitForDrain(holder[0]);

        GcAssert.Alive(cache);
        GC.KeepAlive(holder);
    }

    /// <summary>Reads key 1 past a full ring while holding the policy lock, so the drain it schedules waits for that lock.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SetAndScheduleDrainWhileLocked(BoundedCache<int, Payload> cache, bool thenDispose)
    {
        var value = new Payload();
        cache.Set(1, value);
        lock (cache.PolicyLock)
        {
            for (int i = 0; i < 2 * Ring; i++)
            {
                Assert.True(cache.TryGet(1, out _));
            }

            // The drain cannot have run (this thread holds its lock): it is queued, or waiting for the lock.
            Assert.True(cache.IsReadDrainScheduled);
            Assert.Equal(Ring, cache.Clock.PendingReads);
            if (thenDispose)
            {
                cache.Dispose();
            }
        }

        return new WeakReference(value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateReadAndDrop(List<BoundedCache<int, Payload>>? holder)
    {
        BoundedCache<int, Payload> cache = NewCache();
        cache.Set(1, new Payload());
        lock (cache.PolicyLock)
        {
            for (int i = 0; i < 2 * Ring; i++)
            {
                Assert.True(cache.TryGet(1, out _));
            }

            // Returned while the drain is still queued (or waiting for this lock): it holds the cache at that moment.
            Assert.True(cache.IsReadDrainScheduled);
        }

        holder?.Add(cache);
        return new WeakReference(cache);
    }

    private static void WaitForDrain(BoundedCache<int, Payload> cache)
    {
        DateTime deadline = DateTime.UtcNow + s_timeout;
        while (cache.IsReadDrainScheduled)
        {
            Assert.True(DateTime.UtcNow < deadline, "the scheduled drain never finished");
            Thread.Sleep(1);
        }
    }

    /// <summary>The sketch's estimate for an int key (its hash is itself), read under the policy lock the drain takes.</summary>
    private static int FrequencyOf(BoundedCache<int, Payload> cache, int key)
    {
        lock (cache.PolicyLock)
        {
            return cache.TinyLfu!.Sketch.Frequency(key);
        }
    }

    private sealed class Payload
    {
        public byte[] Data { get; } = new byte[64];
    }
}
