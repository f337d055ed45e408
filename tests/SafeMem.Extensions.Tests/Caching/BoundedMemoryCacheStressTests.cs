using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using SafeMem.Extensions.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Tests.Caching;

[Collection(StressCollection.Name)]
public sealed class BoundedMemoryCacheStressTests
{
    [Fact]
    public void MixedOperationsWithTokens_ManyThreads_BoundsHoldAndEveryEntryLeavesExactlyOnce()
    {
        const int MaximumCount = 64;
        const long MaximumWeight = 150;
        using var cache = new BoundedMemoryCache(new BoundedMemoryCacheOptions
        {
            Name = "stress",
            MaximumCount = MaximumCount,
            MaximumWeight = MaximumWeight,
        });
        long writes = 0, callbacks = 0, lookups = 0;
        var sources = new CancellationTokenSource[4];
        for (int i = 0; i < sources.Length; i++)
        {
            sources[i] = new CancellationTokenSource();
        }

        PostEvictionDelegate onEvicted = (_, _, _, _) => Interlocked.Increment(ref callbacks);

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1.5), (thread, random) =>
        {
            int key = random.Next(200);
            switch (random.Next(10))
            {
                case < 4:
                    Interlocked.Increment(ref lookups);
                    cache.TryGetValue(key, out _);
                    break;
                case < 7:
                    using (ICacheEntry entry = cache.CreateEntry(key))
                    {
                        entry.Size = random.Next(1, 6);
                        entry.RegisterPostEvictionCallback(onEvicted);
                        if (random.Next(4) == 0)
                        {
                            CancellationTokenSource source = Volatile.Read(ref sources[random.Next(sources.Length)]);
                            entry.AddExpirationToken(new CancellationChangeToken(source.Token));
                        }

                        entry.Value = key;
                        Interlocked.Increment(ref writes);
                    }

                    break;
                case < 9:
                    cache.Remove(key);
                    break;
                default:
                    // One thread rotates the tokens: cancelling one expires every entry that listens to it.
                    if (thread == 0 && random.Next(50) == 0)
                    {
                        int index = random.Next(sources.Length);
                        CancellationTokenSource old = Interlocked.Exchange(ref sources[index], new CancellationTokenSource());
                        old.Cancel();
                    }

                    break;
            }
        });

        Assert.InRange(cache.Count, 0, MaximumCount);
        Assert.InRange(cache.Weight, 0, MaximumWeight);
        MemoryCacheStatistics statistics = cache.GetCurrentStatistics();
        Assert.Equal(lookups, statistics.TotalHits + statistics.TotalMisses);

        cache.Clear();

        // Every committed entry has left by now (evicted, rejected, replaced, removed, expired by token or cleared),
        // and each ran its callback exactly once.
        Assert.Equal(writes, Interlocked.Read(ref callbacks));
        Assert.Equal((0, 0L), (cache.Count, cache.Weight));
        foreach (CancellationTokenSource source in sources)
        {
            source.Dispose();
        }

    }
}
