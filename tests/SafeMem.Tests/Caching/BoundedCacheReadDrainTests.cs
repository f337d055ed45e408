using System.Runtime.CompilerServices;
using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

/// <summary>
/// How TinyLfu hits reach the policy: recorded in the reader's ring of <see cref="RecencyClock.ReadBufferSize"/>, applied
/// by every write and by the reader whose ring is full (never on another thread), in order when threads take turns,
/// sampled only in long runs of hits with no write between. Everything here is deterministic: nothing waits for the
/// thread pool, and no test asserts a timing.
/// </summary>
public sealed class BoundedCacheReadDrainTests
{
    private const int Ring = RecencyClock.ReadBufferSize;
    private const int RunBeforeSampling = RecencyClock.SampleAfterFullRings * Ring;

    private static BoundedCache<int, Payload> NewCache(bool applyEveryHit = false, int maximumCount = 100)
        => new(new BoundedCacheOptions<int, Payload>
        {
            EvictionPolicy = EvictionPolicy.TinyLfu,
            PolicySeed = 1,
            ApplyEveryHit = applyEveryHit,
            MaximumCount = maximumCount,
        });

    [Fact]
    public void Hits_WithoutAnyWrite_ReachThePolicyWhenTheRingFills()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        cache.Set(1, new Payload());
        int before = FrequencyOf(cache, 1);
        for (int i = 0; i < Ring; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        // 64 records fit: nothing has reached the policy yet.
        Assert.Equal(Ring, cache.Clock.PendingReads);
        Assert.Equal(before, FrequencyOf(cache, 1));

        // The 65th finds the ring full: this reader drains every ring itself (the lock is free), then records its hit.
        Assert.True(cache.TryGet(1, out _));
        Assert.True(before < 15, $"the write alone gave frequency {before}");
        Assert.Equal(15, FrequencyOf(cache, 1));
        Assert.Equal(1, cache.Clock.PendingReads);
        Assert.Equal(0, cache.Clock.Dropped);
        Assert.Equal(Ring + 1, cache.GetStatistics().Hits);
        Assert.Equal(0, cache.GetStatistics().Misses);
    }

    [Fact]
    public void FullRing_LockTakenByAnotherThread_DropsTheRecordCountsTheHitAndBacksOff()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        cache.Set(1, new Payload());
        for (int i = 0; i < Ring; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        using var locked = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (cache.PolicyLock)
            {
                locked.Set();
                release.Wait();
            }
        });
        holder.Start();
        locked.Wait();
        try
        {
            // The reader never waits for the lock: the record is dropped, the hit counted, and the next 16 hits are not
            // even tried (a retry per 16 hits at most while the lock stays taken).
            Assert.True(cache.TryGet(1, out _));
            Assert.Equal(1, cache.Clock.Dropped);
            for (int i = 0; i < 16; i++)
            {
                Assert.True(cache.TryGet(1, out _));
            }

            Assert.Equal(17, cache.Clock.Dropped);
            Assert.Equal(Ring, cache.Clock.PendingReads);
        }
        finally
        {
            release.Set();
            holder.Join();
        }

        // The lock is free again: the next hit drains and records.
        Assert.True(cache.TryGet(1, out _));
        Assert.Equal(1, cache.Clock.PendingReads);
        Assert.Equal(Ring + 18, cache.GetStatistics().Hits);
    }

    [Fact]
    public void Write_AppliesEveryRecordedHitFirst()
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

        // The three hits sit in the ring (not full); the write drains them before its duel, so 2 (the candidate, now more
        // frequent) beats 1. Without them, ties keep the victim and 2 would be evicted.
        Assert.Equal(3, cache.Clock.PendingReads);
        cache.Set(3, new Payload());

        Assert.Equal([1], evicted);
        Assert.Equal(0, cache.Clock.PendingReads);
    }

    [Fact]
    public void LongRunOfHits_SampledOnlyAfterSixteenFullRings_AndAWriteRecordsEveryHitAgain()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        for (int key = 0; key < 10; key++)
        {
            cache.Set(key, new Payload());
        }

        // Sixteen full rings and one more hit: every hit recorded, nothing sampled out.
        int hits = 0;
        for (; hits <= RunBeforeSampling; hits++)
        {
            Assert.True(cache.TryGet(hits % 10, out _));
        }

        Assert.Equal(0, cache.Clock.Dropped);

        // Further hits with no write between are sampled: the stride doubles per full ring up to 16, so over 64,000 more
        // hits nearly 15 in 16 are counted without a record.
        const int More = 64_000;
        for (int i = 0; i < More; i++, hits++)
        {
            Assert.True(cache.TryGet(hits % 10, out _));
        }

        long sampledOut = cache.Clock.Dropped;
        
        // Gaps are uniform in [0, 30] at the full stride (mean 15 skipped per record), so at most 30 in 31 are skipped.
        Assert.InRange(sampledOut, More * 8 / 10, More * 30 / 31);
        Assert.Equal(hits, cache.GetStatistics().Hits);

        // A write: from this thread's next record on, every hit is recorded again (at most one sampling gap, under 32
        // hits, is still skipped first).
        cache.Set(100, new Payload());
        for (int i = 0; i < 2 * Ring; i++)
        {
            Assert.True(cache.TryGet(i % 10, out _));
        }

        Assert.InRange(cache.Clock.Dropped - sampledOut, 0, 2 * RecencyClock.MaximumSampleStride);
    }

    [Fact]
    public void LongRunOfHits_SampledOutHits_StillAgeTheSketch()
    {
        // Aging follows real traffic: a sampled-out hit is not counted for its key, but it counts toward the period after
        // which every counter is halved (10 uses per entry: 10,000 here). One key read 20,480 times: its counters reach
        // their ceiling of 15 within the first ring and stop counting, so only the uses sampled out can advance the period.
        using BoundedCache<int, Payload> cache = NewCache(maximumCount: 1000);
        cache.Set(1, new Payload());
        FrequencySketch sketch = cache.TinyLfu!.Sketch;
        Assert.Equal(10_000, sketch.SampleSize);
        int uses = 20 * RunBeforeSampling;
        for (int i = 0; i < uses; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        cache.Set(2, new Payload());
        Assert.True(cache.Clock.Dropped > uses / 2, $"only {cache.Clock.Dropped} of {uses} hits were sampled out");

        // The period filled (a halving leaves half of it counted, and the sample grows from there): counted in recorded
        // uses that changed a counter, the sample would hold about 15 (the key's counters saturated, then stopped).
        Assert.True(sketch.Sample > sketch.SampleSize / 4, $"sample {sketch.Sample} of {sketch.SampleSize}");
    }

    [Fact]
    public void LongRunOfHits_ApplyEveryHit_NeverSamples()
    {
        using BoundedCache<int, Payload> cache = NewCache(applyEveryHit: true);
        cache.Set(1, new Payload());
        for (int i = 0; i < 4 * RunBeforeSampling; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        Assert.Equal(0, cache.Clock.Dropped);
        Assert.Equal(4 * RunBeforeSampling, cache.GetStatistics().Hits);
    }

    /// <summary>
    /// The case: a loop slightly larger than the cache, replayed on one thread through the public API with default
    /// options, must keep (within a point) the hit ratio of the synchronous mode, where every hit reaches the policy. A
    /// full ring that hands its drain to the thread pool and drops hits until it runs lost 4 to 10 points here on a loaded
    /// machine; a reader that drains its own full ring loses nothing, and its replay does not depend on scheduling.
    /// </summary>
    [Theory]
    [InlineData(200, 220)]
    [InlineData(1000, 1100)]
    public void Replay_LoopSlightlyLargerThanTheCache_DefaultModeKeepsTheSynchronousHitRatio(int capacity, int loop)
    {
        int[] keys = LoopWorkload(loop, requests: 33_000);
        for (int seed = 1; seed <= 3; seed++)
        {
            double synchronous = ReplayHitRatio(keys, capacity, seed, applyEveryHit: true);
            double byDefault = ReplayHitRatio(keys, capacity, seed, applyEveryHit: false);
            Assert.True(synchronous > 50, $"the workload should be mostly hits under TinyLfu; synchronous mode gave {synchronous:F2} %");
            Assert.True(byDefault >= synchronous - 1, $"seed {seed}: default mode {byDefault:F2} % against {synchronous:F2} % synchronously");
        }
    }

    /// <summary>
    /// Two threads taking turns (never both at once) reach the policy in the order of the operations: the same evictions,
    /// hit for hit, as one thread replaying everything in the synchronous mode. The thread starting a ring drains the
    /// records the other left first; without that, a ring's leftovers reached the policy after newer hits.
    /// </summary>
    [Fact]
    public void Replay_TwoThreadsTakingTurns_SameEvictionsAsOneThreadApplyingEveryHit()
    {
        const int Capacity = 200;
        int[] keys = LoopWorkload(loop: 220, requests: 20_000);
        (long hits, List<int> evicted) = ReplayEvictions(keys, Capacity, applyEveryHit: true, turn: 0);
        (long turnHits, List<int> turnEvicted) = ReplayEvictions(keys, Capacity, applyEveryHit: false, turn: 100);

        Assert.Equal(hits, turnHits);
        Assert.Equal(evicted, turnEvicted);
    }

    [Fact]
    public void Dispose_WithRecordsPending_ValuesAreCollectableWhileTheCacheIsStillReferenced()
    {
        BoundedCache<int, Payload> cache = NewCache();
        WeakReference value = SetAndRead(cache);
        Assert.Equal(3, cache.Clock.PendingReads);

        cache.Dispose();

        Assert.Equal(0, cache.Clock.PendingReads);
        Assert.Throws<ObjectDisposedException>(() => cache.TryGet(1, out _));
        GcAssert.Collected(value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void Dispose_Control_WithoutDispose_TheRingsRecordsKeepNothingTheCacheDoesNotHold()
    {
        using BoundedCache<int, Payload> cache = NewCache();
        WeakReference value = SetAndRead(cache);

        // The entry is still held: alive. The records pointing at it are not what keeps it (see the test above).
        GcAssert.Alive(value);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void DroppedCache_WithRecordsPending_IsCollected()
    {
        // No drain is queued anywhere: nothing but the caller holds a cache, whatever its rings hold.
        WeakReference cache = CreateReadAndDrop(holder: null);

        GcAssert.Collected(cache);
    }

    [Fact]
    public void DroppedCache_Control_HeldCacheStaysAlive()
    {
        var holder = new List<BoundedCache<int, Payload>>();
        WeakReference cache = CreateReadAndDrop(holder);

        GcAssert.Alive(cache);
        GC.KeepAlive(holder);
    }

    /// <summary>A loop over <paramref name="loop"/> keys, repeated until <paramref name="requests"/>.</summary>
    private static int[] LoopWorkload(int loop, int requests) => [.. Enumerable.Range(0, requests).Select(i => i % loop)];

    private static double ReplayHitRatio(int[] keys, int capacity, int seed, bool applyEveryHit)
    {
        using var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int>
        {
            EvictionPolicy = EvictionPolicy.TinyLfu,
            MaximumCount = capacity,
            PolicySeed = seed,
            ApplyEveryHit = applyEveryHit,
        });
        long hits = 0;
        foreach (int key in keys)
        {
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.Set(key, key);
            }
        }

        return 100.0 * hits / keys.Length;
    }

    /// <summary>Replays <paramref name="keys"/> on one thread (<paramref name="turn"/> 0) or on two taking turns of that many requests.</summary>
    private static (long Hits, List<int> Evicted) ReplayEvictions(int[] keys, int capacity, bool applyEveryHit, int turn)
    {
        using var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int>
        {
            EvictionPolicy = EvictionPolicy.TinyLfu,
            MaximumCount = capacity,
            PolicySeed = 5,
            ApplyEveryHit = applyEveryHit,
        });
        var evicted = new List<int>();
        cache.EntryRemoved += (_, e) => evicted.Add(e.Key);
        long hits = 0;
        void Replay(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                if (cache.TryGet(keys[i], out _))
                {
                    hits++;
                }
                else
                {
                    cache.Set(keys[i], keys[i]);
                }
            }
        }

        if (turn == 0)
        {
            Replay(0, keys.Length);
            return (hits, evicted);
        }

        using var first = new SemaphoreSlim(1);
        using var second = new SemaphoreSlim(0);
        Exception? failure = null;
        Thread Start(SemaphoreSlim mine, SemaphoreSlim other, int parity)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    for (int start = parity * turn; start < keys.Length; start += 2 * turn)
                    {
                        Assert.True(mine.Wait(TimeSpan.FromSeconds(60)), "the other thread never handed over");
                        Replay(start, Math.Min(start + turn, keys.Length));
                        other.Release();
                    }
                }
                catch (Exception ex)
                {
                    failure = ex;
                    other.Release();
                }
            });
            thread.Start();
            return thread;
        }

        Thread a = Start(first, second, 0);
        Thread b = Start(second, first, 1);
        a.Join();
        b.Join();
        Assert.Null(failure);
        return (hits, evicted);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SetAndRead(BoundedCache<int, Payload> cache)
    {
        var value = new Payload();
        cache.Set(1, value);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        return new WeakReference(value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateReadAndDrop(List<BoundedCache<int, Payload>>? holder)
    {
        BoundedCache<int, Payload> cache = NewCache();
        cache.Set(1, new Payload());
        for (int i = 0; i < Ring / 2; i++)
        {
            Assert.True(cache.TryGet(1, out _));
        }

        Assert.Equal(Ring / 2, cache.Clock.PendingReads);
        holder?.Add(cache);
        return new WeakReference(cache);
    }

    /// <summary>The sketch's estimate for an int key (its hash is itself), read under the policy lock.</summary>
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
