using System.Collections.Concurrent;
using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;
using Resource = SafeMem.Tests.Caching.BoundedCacheFaultTests.Resource;

namespace SafeMem.Tests.Caching;

/// <summary>Many threads hammer one cache; afterwards its invariants must hold exactly.</summary>
public abstract class BoundedCacheStressTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(1.5);
    private static readonly int s_threads = Math.Max(4, Environment.ProcessorCount * 2);

    [Fact]
    public void MixedOperations_InvariantsHoldAtQuiescence()
    {
        var clock = new FakeTimeProvider();
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 200,
            MaximumWeight = 1500,
            Weigher = static (_, v) => v.Length,
            ExpireAfterAccess = TimeSpan.FromSeconds(30),
            TimeProvider = clock,
        });
        long lookups = 0;
        long writes = 0;
        long removalEvents = 0;
        long removeCalls = 0;
        cache.EntryRemoved += (_, e) =>
        {
            Interlocked.Increment(ref removalEvents);
            Assert.NotNull(e.Value);
        };

        StressRunner.RunFor(s_threads, s_duration, (thread, random) =>
        {
            int key = random.Next(600);
            switch (random.Next(100))
            {
                case < 50:
                    cache.TryGet(key, out _);
                    Interlocked.Increment(ref lookups);
                    break;
                case < 75:
                    cache.Set(key, new string('x', random.Next(0, 20)));
                    Interlocked.Increment(ref writes);
                    break;
                case < 90:
                    cache.GetOrAdd(key, static (k, length) => new string('y', length), random.Next(1, 12));
                    Interlocked.Increment(ref lookups);
                    break;
                case < 98:
                    cache.TryRemove(key);
                    Interlocked.Increment(ref removeCalls);
                    break;
                case < 99:
                    if (thread == 0)
                    {
                        clock.Advance(TimeSpan.FromSeconds(1));
                    }

                    break;
                default:
                    if (thread == 1 && random.Next(20) == 0)
                    {
                        cache.Clear();
                    }

                    break;
            }
        });

        Assert.Null(cache.FindInconsistency());
        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(lookups, statistics.Hits + statistics.Misses);
        Assert.True(cache.Count <= 200, $"Count {cache.Count} over bound");
        Assert.True(cache.Weight <= 1500, $"Weight {cache.Weight} over bound");
        Assert.Equal(cache.Sum(p => (long)p.Value.Length), cache.Weight);

        // Every stored entry is either still here or was reported leaving exactly once; every rejected write reported once.
        long stored = writes + statistics.FactoryCalls - statistics.FactoryFailures;
        Assert.Equal(stored, cache.Count + removalEvents);
        Assert.True(statistics.Evictions > 0);
    }

    [Fact]
    public void ReadMostly_ManyThreads_EveryHitCountedAndInvariantsHold()
    {
        // Reads far outnumber writes, so under TinyLfu the readers' rings fill and are drained on the thread pool (their
        // records dropped meanwhile): hits must still be counted exactly and the policy must stay consistent.
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 64,
            MaximumWeight = 400,
            Weigher = static (_, v) => v.Length,
        });
        for (int key = 0; key < 64; key++)
        {
            cache.Set(key, "v" + key);
        }

        long lookups = 0;
        StressRunner.RunFor(s_threads, TimeSpan.FromSeconds(1), (thread, random) =>
        {
            int key = random.Next(96);
            if (random.Next(100) < 2)
            {
                cache.Set(key, new string('w', random.Next(1, 16)));
            }
            else
            {
                cache.TryGet(key, out _);
                Interlocked.Increment(ref lookups);
            }
        });

        Assert.Null(cache.FindInconsistency());
        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(lookups, statistics.Hits + statistics.Misses);
        Assert.True(statistics.Hits > lookups / 4, $"only {statistics.Hits} hits of {lookups}");
        Assert.True(cache.Count <= 64 && cache.Weight <= 400);
        cache.Set(1_000, "after");
        Assert.Null(cache.FindInconsistency());
    }

    [Fact]
    public void ReadersAndWriters_DisposedMidway_NothingEscapes()
    {
        // Under TinyLfu, readers whose rings are full drain them under the lock while the cache is disposed under them: a
        // drain must find the cache disposed and leave it so; only ObjectDisposedException may reach the callers.
        var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 64,
            MaximumWeight = 400,
            Weigher = static (_, v) => v.Length,
        });
        for (int key = 0; key < 64; key++)
        {
            cache.Set(key, "v" + key);
        }

        int disposing = 0;
        long lookups = 0;
        DateTime disposeAt = DateTime.UtcNow + TimeSpan.FromSeconds(0.5);
        StressRunner.Run(s_threads, thread =>
        {
            var random = new Random(thread + 1);
            try
            {
                while (true)
                {
                    if (thread == 0 && DateTime.UtcNow >= disposeAt)
                    {
                        Volatile.Write(ref disposing, 1);
                        cache.Dispose();
                        return;
                    }

                    int key = random.Next(80);
                    if (random.Next(100) < 3)
                    {
                        cache.Set(key, new string('w', random.Next(1, 12)));
                    }
                    else
                    {
                        cache.TryGet(key, out _);
                        Interlocked.Increment(ref lookups);
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                Assert.Equal(1, Volatile.Read(ref disposing));
            }
        });

        Assert.True(lookups > 0);
        Assert.Throws<ObjectDisposedException>(() => cache.Set(1, "after"));
    }

    [Fact]
    public void GetOrAdd_ManyThreads_FactoryRunsOncePerKeyAndAllSeeTheSameValue()
    {
        using var cache = new BoundedCache<int, object>(new BoundedCacheOptions<int, object> { EvictionPolicy = Policy, MaximumCount = 100_000 });
        var calls = new ConcurrentDictionary<int, int>();
        var seen = new ConcurrentDictionary<int, object>();

        StressRunner.RunFor(s_threads, TimeSpan.FromSeconds(1), (_, random) =>
        {
            int key = random.Next(5_000);
            object value = cache.GetOrAdd(key, k =>
            {
                calls.AddOrUpdate(k, 1, static (_, c) => c + 1);
                Thread.SpinWait(200);
                return new object();
            });
            object first = seen.GetOrAdd(key, value);
            Assert.Same(first, value);
        });

        Assert.All(calls, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(calls.Count, cache.Count);
        Assert.Equal(calls.Count, cache.GetStatistics().FactoryCalls);
        Assert.Null(cache.FindInconsistency());
    }

    [Fact]
    public async Task GetOrAddAsync_ManyCallers_FactoryOncePerKey()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, MaximumCount = 1_000 });
        int calls = 0;
        var tasks = new List<Task<string>>();
        for (int i = 0; i < 400; i++)
        {
            int key = i % 20;
            tasks.Add(Task.Run(() => cache.GetOrAddAsync(key, async (k, ct) =>
            {
                Interlocked.Increment(ref calls);
                await Task.Delay(20, ct);
                return "v" + k;
            }).AsTask()));
        }

        string[] results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(20, calls);
        Assert.All(results.Select((v, i) => (v, i)), r => Assert.Equal("v" + (r.i % 20), r.v));
    }

    [Fact]
    public void DisposeRemovedValues_ManyThreads_EachValueDisposedExactlyOnce()
    {
        var all = new ConcurrentBag<Resource>();
        var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource> { EvictionPolicy = Policy, MaximumCount = 50, DisposeRemovedValues = true });

        StressRunner.RunFor(s_threads, s_duration, (thread, random) =>
        {
            int key = random.Next(200);
            switch (random.Next(10))
            {
                case < 4:
                    var resource = new Resource();
                    all.Add(resource);
                    cache.Set(key, resource);
                    break;
                case < 7:
                    if (cache.TryLease(key, out CacheLease<Resource>? lease))
                    {
                        using (lease)
                        {
                            Assert.Equal(0, lease.Value.DisposeCount);
                        }
                    }

                    break;
                case < 9:
                    cache.TryGet(key, out _);
                    break;
                default:
                    cache.TryRemove(key);
                    break;
            }
        });

        int live = cache.Count;
        Assert.Null(cache.FindInconsistency());
        Assert.Equal(all.Count - live, all.Count(r => r.DisposeCount == 1));
        cache.Dispose();
        Assert.All(all, r => Assert.Equal(1, r.DisposeCount));
    }

    [Fact]
    public void DisposeRemovedValues_LeasesLoadsSharedInstancesAndRewrites_NoLeasedValueIsDisposedAndEachIsDisposedOnce()
    {
        var clock = new FakeTimeProvider();
        var all = new ConcurrentBag<Resource>();
        var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = 24,
            MaximumWeight = 60,
            Weigher = static (_, r) => r.Weight,
            ExpireAfterAccess = TimeSpan.FromSeconds(20),
            TimeProvider = clock,
            DisposeRemovedValues = true,
        });
        long removalEvents = 0;
        cache.EntryRemoved += (_, e) =>
        {
            // Issue 20.1: a removal whose handlers run holds its value; no release on another thread disposes it
            // under them.
            Interlocked.Increment(ref removalEvents);
            Assert.Equal(0, e.Value.DisposeCount);
            Thread.SpinWait(20);
            Assert.Equal(0, e.Value.DisposeCount);
        };
        long leasesTaken = 0;

        Resource Create(Random random)
        {
            // Mostly light, now and then heavier than the whole bound (rejected).
            var resource = new Resource { Weight = random.Next(50) == 0 ? 70 : random.Next(1, 6) };
            all.Add(resource);
            return resource;
        }

        void Use(CacheLease<Resource> lease)
        {
            // The guarantee under test: a leased value is not disposed while the lease is held.
            Assert.Equal(0, lease.Value.DisposeCount);
            Interlocked.Increment(ref leasesTaken);
            Thread.SpinWait(20);
            Assert.Equal(0, lease.Value.DisposeCount);
            lease.Dispose();
        }

        // Four threads, as in the probe that found values disposed under their callers.
        StressRunner.RunFor(4, s_duration, (thread, random) =>
        {
            int key = random.Next(64);
            switch (random.Next(100))
            {
                case < 20:
                    cache.Set(key, Create(random));
                    break;
                case < 35:
                    if (cache.TryLease(key, out CacheLease<Resource>? lease))
                    {
                        Use(lease);
                    }

                    break;
                case < 50:
                    Use(cache.GetOrAddLease(key, static (_, state) => state.Create(state.Random), (Create: (Func<Random, Resource>)Create, Random: random)));
                    break;
                case < 58:
                    Use(cache.GetOrAddLeaseAsync(key, async (_, _) =>
                    {
                        if (random.Next(4) == 0)
                        {
                            await Task.Yield();
                        }

                        return Create(random);
                    }).AsTask().GetAwaiter().GetResult());
                    break;
                case < 66:
                    // A leased value is alive: storing it under another key shares the instance between two entries.
                    if (cache.TryLease(key, out CacheLease<Resource>? shared))
                    {
                        cache.Set(random.Next(64), shared.Value);
                        Use(shared);
                    }

                    break;
                case < 72:
                    // Re-write of the stored instance (reads its weight again).
                    if (cache.TryLease(key, out CacheLease<Resource>? stored))
                    {
                        cache.Set(key, stored.Value);
                        Use(stored);
                    }

                    break;
                case < 82:
                    try
                    {
                        cache.GetOrAdd(key, static (_, state) => state.Create(state.Random), (Create: (Func<Random, Resource>)Create, Random: random));
                    }
                    catch (InvalidOperationException)
                    {
                        // The loaded value was heavier than the bound: disposed, not returned.
                    }

                    break;
                case < 96:
                    cache.TryRemove(key);
                    break;
                case < 98:
                    if (thread == 0)
                    {
                        clock.Advance(TimeSpan.FromSeconds(1));
                    }

                    break;
                default:
                    if (thread == 1 && random.Next(20) == 0)
                    {
                        cache.Clear();
                    }

                    break;
            }
        });

        // One more write purges every entry expired meanwhile, so "stored" below means what the cache holds.
        var last = new Resource();
        all.Add(last);
        cache.Set(-1, last);
        Assert.Null(cache.FindInconsistency());
        Assert.Equal(0, cache.CountLeases());
        Assert.True(leasesTaken > 1000, $"only {leasesTaken} leases were taken");
        Assert.True(removalEvents > 0);
        Assert.All(all, r => Assert.InRange(r.DisposeCount, 0, 1));
        var stored = new HashSet<Resource>(cache.Select(p => p.Value), ReferenceEqualityComparer.Instance);
        Assert.All(all, r => Assert.Equal(stored.Contains(r) ? 0 : 1, r.DisposeCount));

        cache.Dispose();
        Assert.All(all, r => Assert.Equal(1, r.DisposeCount));
    }

    [Fact]
    public void Lookups_TwoThreadsRacingRemovals_HitsAndMissesAreWhatCallersSaw()
    {
        // Issue 20.3: a TryLease that lost its race with a removal counted a hit and returned false (hundreds to
        // thousands per run under two threads). Every kind of lookup, each counted once as what its caller saw.
        var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = 8,
            DisposeRemovedValues = true,
        });
        cache.EntryRemoved += (_, e) => Assert.Equal(0, e.Value.DisposeCount);
        long lookups = 0, hitsSeen = 0;

        StressRunner.RunFor(2, s_duration, (thread, random) =>
        {
            int key = random.Next(12);
            switch (random.Next(10))
            {
                case < 3:
                    cache.Set(key, new Resource());
                    break;
                case < 5:
                    cache.TryRemove(key);
                    break;
                case < 7:
                    Interlocked.Increment(ref lookups);
                    if (cache.TryLease(key, out CacheLease<Resource>? lease))
                    {
                        Interlocked.Increment(ref hitsSeen);
                        Assert.Equal(0, lease.Value.DisposeCount);
                        lease.Dispose();
                    }

                    break;
                case 7:
                    Interlocked.Increment(ref lookups);
                    if (cache.TryGet(key, out _))
                    {
                        Interlocked.Increment(ref hitsSeen);
                    }

                    break;
                case 8:
                    // A GetOrAdd* call is one lookup whatever happens inside it (a lost lease, a reload of a value that
                    // left before the call returned): a hit when it ran no factory and joined no load, else a miss.
                    Interlocked.Increment(ref lookups);
                    if (random.Next(2) == 0)
                    {
                        cache.GetOrAdd(key, static _ => new Resource());
                    }
                    else
                    {
                        cache.GetOrAddLease(key, static _ => new Resource()).Dispose();
                    }

                    break;
                default:
                    Interlocked.Increment(ref lookups);
                    if (random.Next(2) == 0)
                    {
                        cache.GetOrAddAsync(key, static (_, _) => new ValueTask<Resource>(new Resource())).AsTask().GetAwaiter().GetResult();
                    }
                    else
                    {
                        cache.GetOrAddLeaseAsync(key, static (_, _) => new ValueTask<Resource>(new Resource())).AsTask().GetAwaiter().GetResult().Dispose();
                    }

                    break;
            }
        });

        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(lookups, statistics.Hits + statistics.Misses);
        Assert.True(statistics.Hits >= hitsSeen, $"{statistics.Hits} hits counted, {hitsSeen} seen by TryGet and TryLease alone");
        Assert.Null(cache.FindInconsistency());
        Assert.Equal(0, cache.CountLeases());
        cache.Dispose();
    }

    [Fact]
    public void TryLeaseAndTryGet_TwoThreadsRacingRemovals_EveryHitCountedIsOneCallersSaw()
    {
        var cache = new BoundedCache<int, Resource>(new BoundedCacheOptions<int, Resource>
        {
            EvictionPolicy = Policy,
            MaximumCount = 8,
            DisposeRemovedValues = true,
        });
        long lookups = 0, hitsSeen = 0;

        StressRunner.RunFor(2, s_duration, (thread, random) =>
        {
            int key = random.Next(12);
            switch (random.Next(8))
            {
                case < 2:
                    cache.Set(key, new Resource());
                    break;
                case < 4:
                    cache.TryRemove(key);
                    break;
                case < 7:
                    Interlocked.Increment(ref lookups);
                    if (cache.TryLease(key, out CacheLease<Resource>? lease))
                    {
                        Interlocked.Increment(ref hitsSeen);
                        lease.Dispose();
                    }

                    break;
                default:
                    Interlocked.Increment(ref lookups);
                    if (cache.TryGet(key, out _))
                    {
                        Interlocked.Increment(ref hitsSeen);
                    }

                    break;
            }
        });

        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal((hitsSeen, lookups - hitsSeen), (statistics.Hits, statistics.Misses));
        cache.Dispose();
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    [Collection(StressCollection.Name)]
    public sealed class UnderLru() : BoundedCacheStressTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    [Collection(StressCollection.Name)]
    public sealed class UnderTinyLfu() : BoundedCacheStressTests(EvictionPolicy.TinyLfu);
}
