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
            TrackStatistics = true,
        });
        long writes = 0, callbacks = 0, lookups = 0, hitsSeen = 0;
        var polling = new BoundedMemoryCacheTests.PollingToken[4];
        for (int i = 0; i < polling.Length; i++)
        {
            polling[i] = new BoundedMemoryCacheTests.PollingToken();
        }

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
                    if (cache.TryGetValue(key, out _))
                    {
                        Interlocked.Increment(ref hitsSeen);
                    }

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
                        else if (random.Next(3) == 0)
                        {
                            // A token that cannot call back: a read that finds it fired sees a miss.
                            entry.AddExpirationToken(Volatile.Read(ref polling[random.Next(polling.Length)]));
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
                    else if (thread == 1 && random.Next(50) == 0)
                    {
                        Interlocked.Exchange(ref polling[random.Next(polling.Length)], new BoundedMemoryCacheTests.PollingToken()).HasChanged = true;
                    }

                    break;
            }
        });

        Assert.InRange(cache.Count, 0, MaximumCount);
        Assert.InRange(cache.Weight, 0, MaximumWeight);
        MemoryCacheStatistics statistics = cache.GetCurrentStatistics()!;
        Assert.Equal((hitsSeen, lookups - hitsSeen), (statistics.TotalHits, statistics.TotalMisses));

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

    [Fact]
    public void ThrowingCallbacksAndTokens_ManyThreads_EveryStoredEntryStillListensToItsTokens()
    {
        using var cache = new BoundedMemoryCache(new BoundedMemoryCacheOptions { Name = "stress-throwing", MaximumCount = 32 });
        var sources = new CancellationTokenSource[4];
        for (int i = 0; i < sources.Length; i++)
        {
            sources[i] = new CancellationTokenSource();
        }

        long writes = 0, callbacks = 0, thrown = 0;
        PostEvictionDelegate counting = (_, _, _, _) => Interlocked.Increment(ref callbacks);
        PostEvictionDelegate throwing = (_, _, _, _) =>
        {
            Interlocked.Increment(ref callbacks);
            throw new InvalidDataException("callback");
        };

        void Guarded(Action operation)
        {
            try
            {
                operation();
            }
            catch (Exception ex) when (ex is InvalidDataException or AggregateException)
            {
                Interlocked.Increment(ref thrown);
            }
        }

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1), (thread, random) =>
        {
            int key = random.Next(100);
            switch (random.Next(10))
            {
                case < 6:
                    Guarded(() =>
                    {
                        using ICacheEntry entry = cache.CreateEntry(key);
                        entry.RegisterPostEvictionCallback(random.Next(4) == 0 ? throwing : counting);
                        bool listens = random.Next(2) == 0;
                        if (listens)
                        {
                            entry.AddExpirationToken(new CancellationChangeToken(Volatile.Read(ref sources[random.Next(sources.Length)]).Token));
                        }

                        entry.Value = listens;
                        Interlocked.Increment(ref writes);
                    });
                    break;
                case < 8:
                    Guarded(() => cache.TryGetValue(key, out _));
                    break;
                default:
                    Guarded(() => cache.Remove(key));
                    break;
            }
        });

        // Cancel every token: each stored entry that listens to one must leave through its callback registration.
        foreach (CancellationTokenSource source in sources)
        {
            Guarded(source.Cancel);
        }

        int countAfterCancel = cache.Count;
        int stored = 0;
        for (int key = 0; key < 100; key++)
        {
            // A read would also find a fired token by polling, and remove the entry: count what is left without tokens.
            Guarded(() => stored += cache.TryGetValue(key, out object? listens) && listens is false ? 1 : 0);
        }

        Assert.True(thrown > 0, "no callback threw");
        Assert.Equal(stored, countAfterCancel);
        Guarded(cache.Clear);
        Assert.Equal(writes, Interlocked.Read(ref callbacks));
        foreach (CancellationTokenSource source in sources)
        {
            source.Dispose();
        }
    }
}
