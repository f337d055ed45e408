using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

/// <summary>The key table under the cache: growth, colliding hash codes, and lock-free readers while it changes.</summary>
public abstract class BoundedCacheTableTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    [Fact]
    public void Set_KeysWhoseHashCodesCollide_AllStayFindable()
    {
        // Every key has the same hash code: one chain holds them all, and removal from its middle must keep the rest.
        using var cache = new BoundedCache<string, string>(new BoundedCacheOptions<string, string>
        {
            EvictionPolicy = Policy,
            MaximumCount = 100,
            KeyComparer = new SameHashComparer(),
        });
        for (int i = 0; i < 100; i++)
        {
            cache.Set("k" + i, "v" + i);
        }

        Assert.True(cache.TryRemove("k50"));
        cache.Set("k7", "again");

        Assert.Equal(99, cache.Count);
        Assert.Equal("again", cache.TryGet("k7", out string? seven) ? seven : null);
        Assert.False(cache.TryGet("k50", out _));
        for (int i = 0; i < 100; i++)
        {
            if (i is not 50 and not 7)
            {
                Assert.True(cache.TryGet("k" + i, out string? value));
                Assert.Equal("v" + i, value);
            }
        }

        Assert.Null(cache.FindInconsistency());
    }

    [Fact]
    public void Set_KeysThatAreMultiplesOfAPowerOfTwo_AreSpreadOverBuckets()
    {
        // Identity hash codes that differ only in high bits collide under a plain mask; the cache must still find them.
        using var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { EvictionPolicy = Policy, MaximumCount = 10_000 });
        for (int i = 0; i < 10_000; i++)
        {
            cache.Set(i << 16, i);
        }

        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(cache.TryGet(i << 16, out int value));
            Assert.Equal(i, value);
        }

        Assert.Null(cache.FindInconsistency());
    }

    [Fact]
    public void TryGet_WhileAnotherThreadGrowsTheTable_NeverMissesAPresentKey()
    {
        // Readers look up keys that are always present while a writer adds enough others to grow the table many times
        // (each growth relinks every chain): a miss would be the spurious miss the table version guards against.
        for (int round = 0; round < 3; round++)
        {
            using var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { EvictionPolicy = Policy, MaximumCount = 1_000_000 });
            const int Present = 64;
            for (int i = 0; i < Present; i++)
            {
                cache.Set(-1 - i, i);
            }

            long misses = 0;
            int done = 0;
            StressRunner.Run(3, thread =>
            {
                if (thread == 0)
                {
                    for (int i = 0; i < 200_000; i++)
                    {
                        cache.Set(i, i);
                    }

                    Volatile.Write(ref done, 1);
                    return;
                }

                int key = thread;
                while (Volatile.Read(ref done) == 0)
                {
                    key = (key + 1) % Present;
                    if (!cache.TryGet(-1 - key, out int value) || value != key)
                    {
                        Interlocked.Increment(ref misses);
                    }
                }
            });

            Assert.Equal(0, misses);
            Assert.Null(cache.FindInconsistency());
        }
    }

    private sealed class SameHashComparer : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public int GetHashCode(string obj) => 42;
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    [Collection(StressCollection.Name)]
    public sealed class UnderLru() : BoundedCacheTableTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    [Collection(StressCollection.Name)]
    public sealed class UnderTinyLfu() : BoundedCacheTableTests(EvictionPolicy.TinyLfu);
}
