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
        // TinyLfu's climber steps every 2,000 requests at the least: a longer run sees it grow and shrink the window.
        int operations = policy == EvictionPolicy.Lru ? 4000 : 24_000;
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

            // Default mode, as users get it: on one thread every hit reaches the policy in order (runs of hits here are far
            // shorter than the 1,024 after which a reader samples), so it must match the reference step by step.
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
        for (int step = 0; step < operations; step++)
        {
            int key = random.Next(KeySpace);
            int removalsBefore = reference.RemovalCount;
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
            List<(int Key, Item Value, string Reason)> expectedRemovals = reference.RemovalsSince(removalsBefore);
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

        // Under a count bound every seed sees the climber grow the window into main's entries; under a weight bound of
        // 40, whose window starts at 1, most seeds do (the transfer code is the same, measured in weight).
        Assert.True(policy == EvictionPolicy.Lru || bounds != Bounds.Count || reference.WindowTransfers > 0, "the window never grew into main's entries");
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

        public required Func<long> WindowTransfersOf { get; init; }

        public required Func<IEnumerable<int>> KeysOf { get; init; }

        public required Func<int> RemovalCountOf { get; init; }

        // The removals from an index on, without copying the model's whole list at every step (that made a long run
        // quadratic in its removals).
        public required Func<int, List<(int Key, Item Value, string Reason)>> RemovalsSince { get; init; }

        public int Count => CountOf();

        public long Weight => WeightOf();

        public long Hits => HitsOf();

        public long Misses => MissesOf();

        public long AdmissionRejections => AdmissionRejectionsOf();

        public long WindowTransfers => WindowTransfersOf();

        public IEnumerable<int> KeysByRecency => KeysOf();

        public int RemovalCount => RemovalCountOf();

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
            WindowTransfersOf = () => 0,
            KeysOf = () => lru.KeysByRecency,
            RemovalCountOf = () => lru.Removals.Count,
            RemovalsSince = start => lru.Removals.GetRange(start, lru.Removals.Count - start),
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
            WindowTransfersOf = () => lfu.WindowTransfers,
            KeysOf = () => lfu.KeysByRecency,
            RemovalCountOf = () => lfu.Removals.Count,
            RemovalsSince = start => [.. lfu.Removals.GetRange(start, lfu.Removals.Count - start).Select(r => (r.Key, (Item)r.Value, r.Reason))],
        };
    }

    public static TheoryData<Bounds, Expiry, int> OwnershipCases()
    {
        var data = new TheoryData<Bounds, Expiry, int>();
        foreach (Bounds bounds in Enum.GetValues<Bounds>())
        {
            foreach (Expiry expiry in new[] { Expiry.None, Expiry.AfterWrite, Expiry.AfterAccess })
            {
                foreach (int seed in new[] { 1, 2 })
                {
                    data.Add(bounds, expiry, seed);
                }
            }
        }

        return data;
    }

    /// <summary>
    /// DisposeRemovedValues against a model of who holds each value instance: the reference LRU's entries, the leases
    /// the test holds, and whether the cache still owns the instance (a hand-over gives it to the caller, a write gives
    /// it back). After every step each value must have been disposed exactly once if nothing holds it and the cache
    /// owns it, and never otherwise. Instances are shared between keys, written again (with a new weight), leased
    /// across steps, loaded, handed over and rejected. It runs under LRU, whose reference model says which entries
    /// hold which value; holders are counted in the write and removal path both policies share, and the lease,
    /// ownership and stress tests run under both.
    /// </summary>
    [Theory]
    [MemberData(nameof(OwnershipCases))]
    public void RandomOperations_DisposeRemovedValues_DisposeExactlyWhenNothingHoldsAValue(Bounds bounds, Expiry expiry, int seed)
    {
        const int Operations = 3000;
        const int KeySpace = 24;
        int? maximumCount = bounds is Bounds.Count or Bounds.Both ? 8 : null;
        long? maximumWeight = bounds is Bounds.Weight or Bounds.Both ? 20 : null;
        bool weighs = bounds != Bounds.Count;
        TimeSpan? afterWrite = expiry == Expiry.AfterWrite ? TimeSpan.FromSeconds(30) : null;
        TimeSpan? afterAccess = expiry == Expiry.AfterAccess ? TimeSpan.FromSeconds(12) : null;

        var clock = new FakeTimeProvider();
        var reference = new ReferenceLru<int, Res>(maximumCount, maximumWeight, afterWrite, afterAccess, clock.GetUtcNow);
        var cache = new BoundedCache<int, Res>(new BoundedCacheOptions<int, Res>
        {
            MaximumCount = maximumCount,
            MaximumWeight = maximumWeight,
            ExpireAfterWrite = afterWrite,
            ExpireAfterAccess = afterAccess,
            TimeProvider = clock,
            Weigher = weighs ? static (_, r) => r.Weight : null,
            DisposeRemovedValues = true,
        });
        var random = new Random(seed);
        var created = new List<Res>();
        var leases = new List<CacheLease<Res>>();
        var handedOver = new List<Res>();
        long rejections = 0, handOvers = 0, sharedWrites = 0;
        var trace = new List<string>(); // what happened, for the failure message

        long NewWeight() => !weighs ? 1 : random.Next(100) < 4 && maximumWeight is long max ? max + 1 : random.Next(0, 6);
        bool Rejects(long weight) => weight > maximumWeight;
        int EntriesOf(Res r) => reference.Values.Count(v => ReferenceEquals(v, r));

        Res NewRes()
        {
            var r = new Res(NewWeight()) { Owned = true };
            created.Add(r);
            return r;
        }

        for (int step = 0; step < Operations; step++)
        {
            int key = random.Next(KeySpace);
            int op = random.Next(100);
            string description;
            int before = reference.TryPeek(key, out Res tb) ? tb.Id : -1;
            if (op < 18)
            {
                Res r = NewRes();
                description = $"Set({key}, new w={r.Weight})";
                rejections += Rejects(r.Weight) ? 1 : 0;
                reference.Set(key, r, r.Weight);
                cache.Set(key, r);
            }
            else if (op < 28)
            {
                // An instance still alive (held by an entry or a lease, or handed to the test), written under a key
                // again: possibly its own key (a re-write), possibly with a new weight.
                List<Res> alive = reference.Values.Concat(leases.Select(l => l.Value)).Concat(handedOver).Where(r => !r.Dead).ToList();
                if (alive.Count == 0)
                {
                    continue;
                }

                Res r = alive[random.Next(alive.Count)];
                if (random.Next(3) == 0)
                {
                    r.Weight = NewWeight();
                }

                description = $"Set({key}, alive #{r.Id} w={r.Weight})";
                bool sameInstance = reference.TryPeek(key, out Res current) && ReferenceEquals(current, r);
                sharedWrites++;
                rejections += Rejects(r.Weight) ? 1 : 0;
                reference.Set(key, r, r.Weight);
                cache.Set(key, r);

                // A write gives the instance to the cache; a refused write of the instance stored under the key hands it
                // back instead, unless another entry still holds it.
                r.Owned = !(sameInstance && Rejects(r.Weight)) || EntriesOf(r) > 0;
            }
            else if (op < 40)
            {
                description = $"TryLease({key})";
                bool expected = reference.TryGet(key, out Res expectedValue);
                Assert.Equal(expected, cache.TryLease(key, out CacheLease<Res>? lease));
                if (expected)
                {
                    Assert.Same(expectedValue, lease!.Value);
                    leases.Add(lease);
                }
            }
            else if (op < 50)
            {
                if (leases.Count == 0)
                {
                    continue;
                }

                int index = random.Next(leases.Count);
                description = $"release lease on #{leases[index].Value.Id}";
                leases[index].Dispose();
                leases.RemoveAt(index);
            }
            else if (op < 60)
            {
                description = $"GetOrAddLease({key})";
                Res expectedValue = reference.TryGet(key, out Res hit) ? hit : LoadInto(reference, key, NewRes());
                CacheLease<Res> lease = cache.GetOrAddLease(key, static (_, r) => r, expectedValue);
                Assert.Same(expectedValue, lease.Value);
                leases.Add(lease);
            }
            else if (op < 68)
            {
                description = $"GetOrAdd({key})";
                bool hitExpected = reference.TryGet(key, out Res hit);
                Res expectedValue = hitExpected ? hit : LoadInto(reference, key, NewRes());
                if (!hitExpected && Rejects(expectedValue.Weight))
                {
                    Assert.Throws<InvalidOperationException>(() => cache.GetOrAdd(key, static (_, r) => r, expectedValue));
                }
                else
                {
                    Assert.Same(expectedValue, cache.GetOrAdd(key, static (_, r) => r, expectedValue));
                }
            }
            else if (op < 78)
            {
                description = $"TryRemove({key})";
                Assert.Equal(reference.TryRemove(key), cache.TryRemove(key));
            }
            else if (op < 84)
            {
                description = $"TryRemove({key}, out value)";
                bool expected = reference.TryPeek(key, out Res expectedValue) && reference.TryRemove(key);
                Assert.Equal(expected, cache.TryRemove(key, out Res? value));
                if (expected)
                {
                    Assert.Same(expectedValue, value);
                    handOvers++;
                    value!.Owned = EntriesOf(value) > 0;
                    handedOver.Add(value);
                }
            }
            else if (op < 85)
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

            trace.Add($"{step}: {description} [before={before}] [keyval={(reference.TryPeek(key, out Res tv) ? tv.Id : -1)}] entries={string.Join(",", reference.Values.Select(v => v.Id))}");
            Assert.True(reference.Count == cache.Count, $"step {step} after {description}: Count {cache.Count}, expected {reference.Count}");
            Assert.True(reference.Weight == cache.Weight, $"step {step} after {description}: Weight {cache.Weight}, expected {reference.Weight}");
            var held = new HashSet<Res>(reference.Values.Concat(leases.Select(l => l.Value)), ReferenceEqualityComparer.Instance);
            foreach (Res r in created)
            {
                r.Dead |= r.Owned && !held.Contains(r);
                if (r.DisposeCount != (r.Dead ? 1 : 0))
                {
                    Assert.Fail(
                    string.Join("\n", trace.Where(t => t.Contains($"#{r.Id} ") || t.Contains($"keyval={r.Id}]") || t.Contains($"before={r.Id}]")).TakeLast(30)) + $"step {step} after {description}: #{r.Id} disposed {r.DisposeCount} times, expected {(r.Dead ? 1 : 0)} (owned {r.Owned}, entries {EntriesOf(r)}, leases {leases.Count(l => l.Value == r)})");
                }
            }

            if (step % 50 == 0)
            {
                Assert.Null(cache.FindInconsistency());
            }
        }

        // The sequence must have exercised what it checks.
        Assert.True(handOvers > 0 && sharedWrites > 0 && created.Any(r => r.Dead), "the sequence did not exercise shared instances, hand-overs and disposal");
        Assert.True(!weighs || rejections > 0, "no rejection happened");

        foreach (CacheLease<Res> lease in leases)
        {
            lease.Dispose();
        }

        Assert.Equal(0, cache.CountLeases());
        cache.Dispose();
        Assert.All(created, r => Assert.Equal(r.Dead || r.Owned ? 1 : 0, r.DisposeCount));
    }

    private static Res LoadInto(ReferenceLru<int, Res> reference, int key, Res loaded)
    {
        reference.Set(key, loaded, loaded.Weight);
        return loaded;
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

    /// <summary>A disposable value that carries the model's view of it: whether the cache owns it, whether it must be disposed.</summary>
    public sealed class Res(long weight) : IDisposable
    {
        private static int s_ids;
        private int _disposeCount;

        public int Id { get; } = Interlocked.Increment(ref s_ids);

        public long Weight { get; set; } = weight;

        public int DisposeCount => Volatile.Read(ref _disposeCount);

        /// <summary>Model: the cache owns the instance (it was given by a write or a load, and not handed back since).</summary>
        public bool Owned { get; set; }

        /// <summary>Model: nothing held the instance while the cache owned it, so it must have been disposed (for good).</summary>
        public bool Dead { get; set; }

        public void Dispose() => Interlocked.Increment(ref _disposeCount);
    }
}
