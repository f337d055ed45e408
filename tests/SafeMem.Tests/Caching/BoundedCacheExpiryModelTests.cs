using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>
/// "Every write first purges what expired": seeded random sets, gets and clock advances against a model of what the
/// cache holds (kept from the writes and the removals the cache reports) and when each entry was written and last used.
/// After every write no entry held may be expired, and a write may evict only as many live entries as its bound needs.
/// Both policies, both expiries and both bounds, in the default mode (what users get); per-entry sliding expiry is
/// covered by the <c>IMemoryCache</c> adapter's tests.
/// </summary>
public sealed class BoundedCacheExpiryModelTests
{
    public enum Expiry
    {
        AfterAccess,
        AfterWrite,
        Both,
    }

    private static readonly TimeSpan s_afterAccess = TimeSpan.FromSeconds(10);

    // Alone, expiry after write is as short as expiry after access, so entries expire before the bounds evict them.
    private static readonly TimeSpan s_afterWriteAlone = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_afterWriteWithAccess = TimeSpan.FromSeconds(25);

    public static TheoryData<EvictionPolicy, Expiry, bool, int> Cases()
    {
        var data = new TheoryData<EvictionPolicy, Expiry, bool, int>();
        foreach (EvictionPolicy policy in Enum.GetValues<EvictionPolicy>())
        {
            foreach (Expiry expiry in Enum.GetValues<Expiry>())
            {
                foreach (bool weighted in new[] { false, true })
                {
                    foreach (int seed in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
                    {
                        data.Add(policy, expiry, weighted, seed);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomOperations_EveryWrite_PurgesEveryExpiredEntryBeforeEvicting(EvictionPolicy policy, Expiry expiry, bool weighted, int seed)
    {
        const int Operations = 1500;
        const int KeySpace = 12;
        const int MaximumCount = 7;
        const long MaximumWeight = 20;
        TimeSpan? afterAccess = expiry is Expiry.AfterAccess or Expiry.Both ? s_afterAccess : null;
        TimeSpan? afterWrite = expiry switch
        {
            Expiry.AfterWrite => s_afterWriteAlone,
            Expiry.Both => s_afterWriteWithAccess,
            _ => null,
        };
        var clock = new FakeTimeProvider();
        using var cache = new BoundedCache<int, Item>(new BoundedCacheOptions<int, Item>
        {
            EvictionPolicy = policy,
            PolicySeed = seed,
            MaximumCount = weighted ? null : MaximumCount,
            MaximumWeight = weighted ? MaximumWeight : null,
            Weigher = weighted ? static (_, item) => item.Weight : null,
            ExpireAfterAccess = afterAccess,
            ExpireAfterWrite = afterWrite,
            TimeProvider = clock,
        });

        // What the cache holds, as its writes and reported removals say, and when each entry was written and last used.
        var held = new Dictionary<int, (Item Item, DateTimeOffset Written, DateTimeOffset Used)>();
        var removed = new List<(int Key, RemovalReason Reason)>();
        cache.EntryRemoved += (_, e) =>
        {
            removed.Add((e.Key, e.Reason));
            Assert.True(held.Remove(e.Key), $"key {e.Key} was reported removed but was not held");
        };

        bool IsExpired((Item Item, DateTimeOffset Written, DateTimeOffset Used) entry, DateTimeOffset now)
            => (afterAccess is { } access && now - entry.Used >= access) || (afterWrite is { } write && now - entry.Written >= write);

        var random = new Random(seed);
        var trace = new List<string>();
        int expirations = 0, evictions = 0;
        for (int step = 0; step < Operations; step++)
        {
            int key = random.Next(KeySpace);
            int op = random.Next(100);
            DateTimeOffset now = clock.GetUtcNow();
            removed.Clear();
            if (op < 45)
            {
                var item = new Item(key, weighted ? random.Next(1, 6) : 1);
                trace.Add($"Set({key}, w={item.Weight})");

                // Live entries (other keys) the write finds, and what of them its bound leaves room for.
                List<(Item Item, DateTimeOffset Written, DateTimeOffset Used)> live = held.Where(p => p.Key != key && !IsExpired(p.Value, now)).Select(p => p.Value).ToList();
                cache.Set(key, item);
                held[key] = (item, now, now);

                string Context() => $"seed {seed}, step {step}: {string.Join(", ", trace.TakeLast(12))}; removed [{string.Join(", ", removed)}]";
                foreach ((int heldKey, (Item Item, DateTimeOffset Written, DateTimeOffset Used) entry) in held)
                {
                    Assert.False(IsExpired(entry, now), $"key {heldKey} is still held, idle {(now - entry.Used).TotalSeconds} s, written {(now - entry.Written).TotalSeconds} s ago, after {Context()}");
                }

                int evicted = removed.Count(r => r.Reason == RemovalReason.Evicted);
                int needed = weighted
                    ? (live.Sum(e => e.Item.Weight) + item.Weight > MaximumWeight ? -1 : 0)
                    : Math.Max(0, live.Count + 1 - MaximumCount);
                if (needed >= 0)
                {
                    Assert.True(evicted == needed, $"{evicted} live entries evicted where {needed} made room, after {Context()}");
                }

                Assert.Equal(held.Count, cache.Count);
                expirations += removed.Count(r => r.Reason == RemovalReason.Expired);
                evictions += evicted;
            }
            else if (op < 85)
            {
                trace.Add($"TryGet({key})");
                bool expected = held.TryGetValue(key, out (Item Item, DateTimeOffset Written, DateTimeOffset Used) entry) && !IsExpired(entry, now);
                Assert.Equal(expected, cache.TryGet(key, out Item? value));
                if (expected)
                {
                    Assert.Same(entry.Item, value);
                    held[key] = entry with { Used = now };
                }
            }
            else
            {
                TimeSpan delta = TimeSpan.FromSeconds(random.Next(0, 5));
                trace.Add($"Advance({delta.TotalSeconds} s)");
                clock.Advance(delta);
            }
        }

        // The sequence must have exercised what it checks.
        Assert.True(expirations > 0, "no entry expired");
        Assert.True(evictions > 0, "no write evicted");
        Assert.Null(cache.FindInconsistency());
    }

    public sealed record Item(int Key, long Weight);
}
