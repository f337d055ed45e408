using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>
/// What the TinyLfu policy promises beyond the contract both policies share (the shared suites run under both): which
/// entries it keeps, weight-aware admission, hits recorded without loss on one thread, and an adaptive window. Where a
/// test shows TinyLfu keeping something, an LRU control shows the same sequence losing it, so the test can fail.
/// </summary>
public sealed class TinyLfuOrderTests
{
    private static BoundedCache<int, string> NewCache(EvictionPolicy policy, int? maximumCount, long? maximumWeight = null, bool weighs = false)
        => new(new BoundedCacheOptions<int, string>
        {
            EvictionPolicy = policy,
            PolicySeed = 1,

            // Every hit reaches the policy however long a test reads without writing (no sampling), so outcomes are exact.
            ApplyEveryHit = true,
            MaximumCount = maximumCount,
            MaximumWeight = maximumWeight,
            Weigher = weighs ? static (_, v) => v.Length : null,
        });

    [Theory]
    [InlineData(EvictionPolicy.TinyLfu, 48)]
    [InlineData(EvictionPolicy.Lru, 0)]
    public void Scan_OfOneTimeKeys_DoesNotFlushTheHotSet(EvictionPolicy policy, int atLeastKept)
    {
        using BoundedCache<int, string> cache = NewCache(policy, maximumCount: 100);
        for (int round = 0; round < 4; round++)
        {
            for (int key = 0; key < 50; key++)
            {
                cache.GetOrAdd(key, static k => "hot" + k);
            }
        }

        for (int key = 1_000; key < 2_000; key++)
        {
            cache.GetOrAdd(key, static k => "scan" + k);
        }

        int kept = Enumerable.Range(0, 50).Count(cache.ContainsKey);
        Assert.True(policy == EvictionPolicy.Lru ? kept == atLeastKept : kept >= atLeastKept, $"{policy} kept {kept} hot keys");
        Assert.Equal(100, cache.Count);
    }

    [Theory]
    [InlineData(false, 2, 1)]
    [InlineData(true, 1, 0)]
    public void Duel_TheMoreFrequentStays_ContainsKeyIsNotAUse(bool readWithTryGet, int evicted, long refusals)
    {
        using BoundedCache<int, string> cache = NewCache(EvictionPolicy.TinyLfu, maximumCount: 2);
        var removed = new List<(int, RemovalReason)>();
        cache.EntryRemoved += (_, e) => removed.Add((e.Key, e.Reason));
        cache.Set(1, "a");
        cache.Set(2, "b");
        for (int i = 0; i < 3; i++)
        {
            _ = readWithTryGet ? cache.TryGet(2, out _) : cache.ContainsKey(2);
        }

        // 3 pushes 2 out of the window: 2 (the candidate) duels 1 (probation's victim); ties keep the victim.
        cache.Set(3, "c");

        Assert.Equal([(evicted, RemovalReason.Evicted)], removed);
        Assert.True(cache.ContainsKey(3));
        Assert.Equal(refusals, cache.GetStatistics().AdmissionRejections);
        Assert.Equal(EvictionPolicy.TinyLfu, cache.GetStatistics().Policy);
    }

    [Theory]
    [InlineData(EvictionPolicy.TinyLfu, 10)]
    [InlineData(EvictionPolicy.Lru, 2)]
    public void HeavyNewEntry_EvictsColdEntriesNotHotOnes(EvictionPolicy policy, int hotKept)
    {
        using BoundedCache<int, string> cache = NewCache(policy, maximumCount: null, maximumWeight: 100, weighs: true);
        for (int key = 0; key < 10; key++)
        {
            cache.Set(key, "hot..");
            for (int i = 0; i < 4; i++)
            {
                cache.TryGet(key, out _);
            }
        }

        for (int key = 100; key < 110; key++)
        {
            cache.Set(key, "cold.");
        }

        Assert.Equal(100, cache.Weight);
        cache.Set(999, new string('h', 40));

        // The heavy entry is visible after its write and the bound holds; TinyLfu made room with the colder entries.
        Assert.True(cache.ContainsKey(999));
        Assert.True(cache.Weight <= 100);
        Assert.Equal(hotKept, Enumerable.Range(0, 10).Count(cache.ContainsKey));
    }

    [Fact]
    public void HeavyOneTimeEntry_LeavesAtTheNextWritesInsteadOfHotEntries()
    {
        using BoundedCache<int, string> cache = NewCache(EvictionPolicy.TinyLfu, maximumCount: null, maximumWeight: 100, weighs: true);
        for (int key = 0; key < 20; key++)
        {
            cache.Set(key, "hot..");
            for (int i = 0; i < 3; i++)
            {
                cache.TryGet(key, out _);
            }
        }

        cache.Set(999, new string('h', 30));
        for (int key = 100; key < 105; key++)
        {
            cache.Set(key, "n");
        }

        // Leaving the window, the heavy one-time entry must beat every hot victim whose weight it needs: it cannot.
        Assert.False(cache.ContainsKey(999));
        Assert.True(Enumerable.Range(0, 20).Count(cache.ContainsKey) >= 14);
        Assert.True(cache.GetStatistics().AdmissionRejections >= 1);
    }

    [Fact]
    public void Hits_BeyondOneRing_AllCountedAndApplied()
    {
        using BoundedCache<int, string> cache = NewCache(EvictionPolicy.TinyLfu, maximumCount: 2);
        cache.Set(1, "a");
        cache.Set(2, "b");
        for (int i = 0; i < 10 * RecencyClock.ReadBufferSize; i++)
        {
            Assert.True(cache.TryGet(2, out _));
        }

        Assert.Equal(10 * RecencyClock.ReadBufferSize, cache.GetStatistics().Hits);
        cache.Set(3, "c");

        // Every hit reached the sketch (it saturates at 15), so 2 won its duel against 1.
        Assert.True(cache.ContainsKey(2));
        Assert.False(cache.ContainsKey(1));
        Assert.Equal(15, cache.TinyLfu!.Sketch.Frequency(2));
    }

    [Fact]
    public void Window_AdaptsToARecencySkewedWorkload()
    {
        using BoundedCache<int, string> cache = NewCache(EvictionPolicy.TinyLfu, maximumCount: 200);
        long initial = cache.TinyLfu!.WindowMaximum;
        long largest = initial;
        var random = new Random(5);
        int next = 0;
        for (int i = 0; i < 60_000; i++)
        {
            // Mostly keys written a moment ago (recency pays), never a stable hot set (frequency does not).
            int key = random.Next(4) == 0 ? next++ : Math.Max(0, next - 1 - random.Next(150));
            cache.GetOrAdd(key, static k => "v");
            largest = Math.Max(largest, cache.TinyLfu.WindowMaximum);
        }

        Assert.Equal(2, initial);
        Assert.True(largest > 20, $"the window never grew past {largest}");
    }

    [Theory]
    [InlineData(EvictionPolicy.TinyLfu, 46.0)]
    [InlineData(EvictionPolicy.Lru, 0.0)]
    public void Loop_ALittleLargerThanTheCache_KeepsAStableSet_WhateverTheSeed(EvictionPolicy policy, double atLeast)
    {
        // Every key is used equally often, so a candidate is always one use ahead of the victim it meets (counted for
        // its latest use, the victim not yet for its next). Winning on that one use evicts what the next round needs:
        // LRU's 0 %. Default options and random seeds, as users get them; a stable set of the cache's size hits about
        // 49 % of a loop of 1,000 keys in a cache of 500. Without the admission margin most seeds give 39 to 42 %.
        for (int run = 0; run < 6; run++)
        {
            using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = policy, MaximumCount = 500 });
            long hits = 0;
            long requests = 0;
            for (int round = 0; round < 60; round++)
            {
                for (int key = 0; key < 1000; key++, requests++)
                {
                    if (cache.TryGet(key, out _))
                    {
                        hits++;
                    }
                    else
                    {
                        cache.Set(key, "v");
                    }
                }
            }

            double ratio = 100.0 * hits / requests;
            Assert.True(policy == EvictionPolicy.Lru ? ratio == atLeast : ratio >= atLeast, $"run {run}: {ratio:F2} % of the loop hit");
        }
    }

    [Fact]
    public void EvictionPolicy_Default_IsLru()
    {
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { MaximumCount = 1 });

        Assert.Equal(EvictionPolicy.Lru, cache.EvictionPolicy);
        Assert.Null(cache.TinyLfu);
    }
}
