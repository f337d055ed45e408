using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>
/// Drives <see cref="BoundedCache{TKey, TValue}"/> and its policy's reference model (<see cref="ReferenceLru{TKey, TValue}"/>
/// or <see cref="ReferenceTinyLfu{TKey}"/>) with the same seeded random operations and checks, after every step, the
/// values returned, Count, Weight and the removals (with reasons): the same evictions, step by step.
/// </summary>
public sealed class BoundedCacheModelTests
{
    public enum Bounds
    {
        Count,
        Weight,
        Both,
    }

    public enum Expiry
    {
        None,
        AfterWrite,
        AfterAccess,
        Both,
    }

    public static TheoryData<EvictionPolicy, Bounds, Expiry, int> Cases()
    {
        var data = new TheoryData<EvictionPolicy, Bounds, Expiry, int>();
        foreach (EvictionPolicy policy in Enum.GetValues<EvictionPolicy>())
        {
            foreach (Bounds bounds in Enum.GetValues<Bounds>())
            {
                foreach (Expiry expiry in Enum.GetValues<Expiry>())
                {
                    foreach (int seed in new[] { 1, 2, 3 })
                    {
                        data.Add(policy, bounds, expiry, seed);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomOperations_MatchReferenceModel(EvictionPolicy policy, Bounds bounds, Expiry expiry, int seed)
    {
        const int Operations = 4000;
        const int KeySpace = 48;
        int? maximumCount = bounds is Bounds.Count or Bounds.Both ? 16 : null;
        long? maximumWeight = bounds is Bounds.Weight or Bounds.Both ? 40 : null;
        bool weighs = bounds != Bounds.Count;
        TimeSpan? afterWrite = expiry is Expiry.AfterWrite or Expiry.Both ? TimeSpan.FromSeconds(30) : null;
        TimeSpan? afterAccess = expiry is Expiry.AfterAccess or Expiry.Both ? TimeSpan.FromSeconds(12) : null;

        var clock = new FakeTimeProvider();
        Model reference = policy == EvictionPolicy.Lru
            ? Model.Of(new ReferenceLru<int, Item>(maximumCount, maximumWeight, afterWrite, afterAccess, clock.GetUtcNow))
            : Model.Of(new ReferenceTinyLfu<int>(seed, maximumCount, maximumWeight, afterWrite, afterAccess, clock.GetUtcNow));
        var options = new BoundedCacheOptions<int, Item>
        {
            EvictionPolicy = policy,
            PolicySeed = seed,
            MaximumCount = maximumCount,
            MaximumWeight = maximumWeight,
            ExpireAfterWrite = afterWrite,
            ExpireAfterAccess = afterAccess,
            TimeProvider = clock,
            Weigher = weighs ? static (_, item) => item.Weight : null,
        };
        using var cache = new BoundedCache<int, Item>(options);
        var removals = new List<(int Key, Item Value, string Reason)>();
        cache.EntryRemoved += (_, e) => removals.Add((e.Key, e.Value, e.Reason.ToString()));

        var random = new Random(seed);
        int version = 0;
        for (int step = 0; step < Operations; step++)
        {
            int key = random.Next(KeySpace);
            int removalsBefore = reference.Removals.Count;
            removals.Clear();
            int op = random.Next(100);
            string description;
            if (op < 40)
            {
                description = $"TryGet({key})";
                (bool expectedFound, Item? expectedValue) = reference.TryGet(key);
                bool found = cache.TryGet(key, out Item? value);
                Assert.True(expectedFound == found, $"step {step}: {description} found {found}, expected {expectedFound}");
                Assert.Same(expectedFound ? expectedValue : null, found ? value : null);
            }
            else if (op < 65)
            {
                Item item = NewItem(random, key, ++version, weighs, maximumWeight);
                description = $"Set({key}, w={item.Weight})";
                reference.Set(key, item, item.Weight);
                cache.Set(key, item);
            }
            else if (op < 80)
            {
                Item item = NewItem(random, key, ++version, weighs, maximumWeight);
                description = $"GetOrAdd({key})";
                (bool hit, Item? expectedValue) = reference.TryGet(key);
                if (!hit)
                {
                    reference.Set(key, item, item.Weight);
                    expectedValue = item;
                }

                Item value = cache.GetOrAdd(key, static (_, created) => created, item);
                Assert.Same(expectedValue, value);
            }
            else if (op < 88)
            {
                description = $"TryRemove({key})";
                Assert.Equal(reference.TryRemove(key), cache.TryRemove(key));
            }
            else if (op < 89)
            {
                description = "Clear()";
                reference.Clear();
                cache.Clear();
            }
            else
            {
                TimeSpan delta = TimeSpan.FromSeconds(random.Next(0, expiry == Expiry.None ? 2 : 8));
                description = $"Advance({delta.TotalSeconds}s)";
                clock.Advance(delta);
            }

            Assert.True(reference.Count == cache.Count, $"step {step} after {description}: Count {cache.Count}, expected {reference.Count}");
            Assert.True(reference.Weight == cache.Weight, $"step {step} after {description}: Weight {cache.Weight}, expected {reference.Weight}");
            List<(int Key, Item Value, string Reason)> expectedRemovals = reference.Removals.Skip(removalsBefore).ToList();
            Assert.True(
                Sorted(expectedRemovals).SequenceEqual(Sorted(removals)),
                $"step {step} after {description}: removals [{string.Join(", ", removals)}], expected [{string.Join(", ", expectedRemovals)}]");
            if (maximumCount is int mc)
            {
                Assert.True(cache.Count <= mc);
            }

            if (maximumWeight is long mw)
            {
                Assert.True(cache.Weight <= mw);
            }

            if (step % 97 == 0 && expiry == Expiry.None)
            {
                Assert.Equal(reference.KeysByRecency, cache.Select(pair => pair.Key));
            }
        }

        CacheStatistics statistics = cache.GetStatistics();
        Assert.Equal(reference.Hits, statistics.Hits);
        Assert.Equal(reference.Misses, statistics.Misses);

        // The sequence must have exercised what it checks.
        Assert.True(statistics.Evictions > 0, "no eviction happened");
        Assert.True(expiry == Expiry.None || statistics.Expirations > 0, "no expiry happened");
        Assert.True(!weighs || statistics.Rejections > 0, "no rejection happened");
        Assert.Equal(reference.AdmissionRejections, statistics.AdmissionRejections);
        Assert.True(policy == EvictionPolicy.Lru || statistics.AdmissionRejections > 0, "the frequency filter never refused a candidate");
    }

    /// <summary>One face for both reference models.</summary>
    private sealed class Model
    {
        public required Func<int, (bool Found, Item? Value)> TryGet { get; init; }

        public required Action<int, Item, long> Set { get; init; }

        public required Func<int, bool> TryRemove { get; init; }

        public required Action Clear { get; init; }

        public required Func<int> CountOf { get; init; }

        public required Func<long> WeightOf { get; init; }

        public required Func<long> HitsOf { get; init; }

        public required Func<long> MissesOf { get; init; }

        public required Func<long> AdmissionRejectionsOf { get; init; }

        public required Func<IEnumerable<int>> KeysOf { get; init; }

        public required Func<List<(int Key, Item Value, string Reason)>> RemovalsOf { get; init; }

        public int Count => CountOf();

        public long Weight => WeightOf();

        public long Hits => HitsOf();

        public long Misses => MissesOf();

        public long AdmissionRejections => AdmissionRejectionsOf();

        public IEnumerable<int> KeysByRecency => KeysOf();

        public List<(int Key, Item Value, string Reason)> Removals => RemovalsOf();

        public static Model Of(ReferenceLru<int, Item> lru) => new()
        {
            TryGet = key => (lru.TryGet(key, out Item value), value),
            Set = lru.Set,
            TryRemove = lru.TryRemove,
            Clear = lru.Clear,
            CountOf = () => lru.Count,
            WeightOf = () => lru.Weight,
            HitsOf = () => lru.Hits,
            MissesOf = () => lru.Misses,
            AdmissionRejectionsOf = () => 0,
            KeysOf = () => lru.KeysByRecency,
            RemovalsOf = () => lru.Removals,
        };

        public static Model Of(ReferenceTinyLfu<int> lfu) => new()
        {
            TryGet = key => (lfu.TryGet(key, out object value), (Item?)value),
            Set = lfu.Set,
            TryRemove = lfu.TryRemove,
            Clear = lfu.Clear,
            CountOf = () => lfu.Count,
            WeightOf = () => lfu.Weight,
            HitsOf = () => lfu.Hits,
            MissesOf = () => lfu.Misses,
            AdmissionRejectionsOf = () => lfu.AdmissionRejections,
            KeysOf = () => lfu.KeysByRecency,
            RemovalsOf = () => lfu.Removals.Select(r => (r.Key, (Item)r.Value, r.Reason)).ToList(),
        };
    }

    private static IEnumerable<(int, int, string)> Sorted(IEnumerable<(int Key, Item Value, string Reason)> removals)
        => removals.Select(r => (r.Key, r.Value.Version, r.Reason)).OrderBy(r => r.Key).ThenBy(r => r.Version).ThenBy(r => r.Reason, StringComparer.Ordinal);

    private static Item NewItem(Random random, int key, int version, bool weighs, long? maximumWeight)
    {
        long weight = 1;
        if (weighs)
        {
            // Mostly light entries, some heavy, and now and then one heavier than the whole bound (rejected).
            int roll = random.Next(100);
            weight = roll < 3 && maximumWeight is long max ? max + 1 : roll < 15 ? random.Next(8, 20) : random.Next(0, 5);
        }

        return new Item(key, version, weight);
    }

    public sealed record Item(int Key, int Version, long Weight);
}
