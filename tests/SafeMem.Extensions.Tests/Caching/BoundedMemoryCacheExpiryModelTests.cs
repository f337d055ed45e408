using Microsoft.Extensions.Caching.Memory;
using SafeMem.Caching;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>
/// Per-entry expiry through the <c>IMemoryCache</c> adapter: seeded random writes with sliding and absolute expirations of
/// different lengths (so no eviction order is an order of deadlines), reads and clock advances, against a model of what
/// the cache holds (from the post-eviction callbacks, which run before the removing call returns). After every write
/// no entry held may be expired, and a write may evict only as many live entries as its bound needs. Both policies,
/// count and weight bounds.
/// </summary>
public sealed class BoundedMemoryCacheExpiryModelTests
{
    public static TheoryData<EvictionPolicy, bool, int> Cases()
    {
        var data = new TheoryData<EvictionPolicy, bool, int>();
        foreach (EvictionPolicy policy in Enum.GetValues<EvictionPolicy>())
        {
            foreach (bool weighted in new[] { false, true })
            {
                foreach (int seed in new[] { 1, 2, 3, 4, 5, 6 })
                {
                    data.Add(policy, weighted, seed);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomOperations_EveryWrite_PurgesEveryExpiredEntryBeforeEvicting(EvictionPolicy policy, bool weighted, int seed)
    {
        const int Operations = 1500;
        const int KeySpace = 12;
        const int MaximumCount = 7;
        const long MaximumWeight = 20;
        var clock = new FakeTimeProvider();
        using var cache = new BoundedMemoryCache(new BoundedMemoryCacheOptions
        {
            Name = "expiry-model",
            EvictionPolicy = policy,
            MaximumCount = weighted ? null : MaximumCount,
            MaximumWeight = weighted ? MaximumWeight : null,
            TimeProvider = clock,
        });

        var held = new Dictionary<int, Entry>();
        var removed = new List<(int Key, EvictionReason Reason)>();
        void OnEvicted(object key, object? value, EvictionReason reason, object? state)
        {
            removed.Add(((int)key, reason));

            // A replaced entry's callback comes after its successor was stored: it is gone only if that is this value.
            if (held.TryGetValue((int)key, out Entry? entry) && ReferenceEquals(entry.Value, value))
            {
                held.Remove((int)key);
            }
        }

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
                var value = new object();
                long size = weighted ? random.Next(1, 6) : 1;
                TimeSpan sliding = TimeSpan.FromSeconds(new[] { 4, 10, 20 }[random.Next(3)]);
                TimeSpan? absolute = random.Next(4) == 0 ? TimeSpan.FromSeconds(random.Next(3, 15)) : null;
                trace.Add($"Set({key}, size {size}, sliding {sliding.TotalSeconds} s, absolute {absolute?.TotalSeconds.ToString() ?? "none"})");
                List<Entry> live = held.Where(p => p.Key != key && !p.Value.IsExpired(now)).Select(p => p.Value).ToList();
                var options = new MemoryCacheEntryOptions { SlidingExpiration = sliding, AbsoluteExpirationRelativeToNow = absolute, Size = size };
                options.RegisterPostEvictionCallback(OnEvicted);
                cache.Set(key, value, options);
                held[key] = new Entry(value, size, sliding, absolute is { } a ? now + a : DateTimeOffset.MaxValue) { Used = now };

                string Context() => $"seed {seed}, step {step}: {string.Join(", ", trace.TakeLast(10))}; removed [{string.Join(", ", removed)}]";
                foreach ((int heldKey, Entry entry) in held)
                {
                    Assert.False(entry.IsExpired(now), $"key {heldKey} is still held, idle {(now - entry.Used).TotalSeconds} s (sliding {entry.Sliding.TotalSeconds} s), after {Context()}");
                }

                int evicted = removed.Count(r => r.Reason == EvictionReason.Capacity);
                int needed = weighted
                    ? (live.Sum(e => e.Size) + size > MaximumWeight ? -1 : 0)
                    : Math.Max(0, live.Count + 1 - MaximumCount);
                if (needed >= 0)
                {
                    Assert.True(evicted == needed, $"{evicted} live entries evicted where {needed} made room, after {Context()}");
                }

                Assert.Equal(held.Count, cache.Count);
                expirations += removed.Count(r => r.Reason == EvictionReason.Expired);
                evictions += evicted;
            }
            else if (op < 85)
            {
                trace.Add($"TryGetValue({key})");
                bool expected = held.TryGetValue(key, out Entry? entry) && !entry.IsExpired(now);
                Assert.Equal(expected, cache.TryGetValue(key, out object? value));
                if (expected)
                {
                    Assert.Same(entry!.Value, value);
                    entry.Used = now;
                }
            }
            else
            {
                TimeSpan delta = TimeSpan.FromSeconds(random.Next(0, 5));
                trace.Add($"Advance({delta.TotalSeconds} s)");
                clock.Advance(delta);
            }
        }

        Assert.True(expirations > 0, "no entry expired");
        Assert.True(evictions > 0, "no write evicted");
    }

    private sealed class Entry(object value, long size, TimeSpan sliding, DateTimeOffset absolute)
    {
        public object Value { get; } = value;

        public long Size { get; } = size;

        public TimeSpan Sliding { get; } = sliding;

        public DateTimeOffset Absolute { get; } = absolute;

        public DateTimeOffset Used { get; set; }

        public bool IsExpired(DateTimeOffset now) => now - Used >= Sliding || now >= Absolute;
    }
}
