using System.Collections.Concurrent;
using System.Globalization;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;
using SafeMem.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// The <c>cache-memory</c> console mode: bytes retained per entry with 1,000,000 int keys and int values, for
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> (the baseline), <see cref="BoundedCache{TKey, TValue}"/> (count
/// bound, no expiry; and with expiry and a weigher, which need bigger nodes), <see cref="MemoryCache"/> (whose
/// object keys and values are boxed, as its API requires) and BitFaster.Caching's <see cref="ConcurrentLru{K, V}"/>,
/// <see cref="FastConcurrentLru{K, V}"/> and <see cref="ConcurrentLfu{K, V}"/>. Target: BoundedCache at most 2x
/// ConcurrentDictionary.
/// </summary>
/// <remarks>
/// Measured as the difference of <see cref="GC.GetTotalMemory(bool)"/> (after full collections) before building a
/// cache and after, with the cache held alive; each cache is built and measured alone.
/// </remarks>
internal static class MemoryPerEntryStudy
{
    private const int Entries = 1_000_000;

    public static void Run(string[] args)
    {
        _ = args;
        Console.WriteLine($"{Entries:N0} entries, int keys and values, {(Environment.Is64BitProcess ? "64" : "32")}-bit, .NET {Environment.Version}.");
        Console.WriteLine();
        Console.WriteLine("| container | bytes per entry | vs ConcurrentDictionary |");
        Console.WriteLine("| --- | ---: | ---: |");
        double baseline = Measure(static () =>
        {
            var dictionary = new ConcurrentDictionary<int, int>();
            for (int i = 0; i < Entries; i++)
            {
                dictionary[i] = i;
            }

            return dictionary;
        });
        Report("ConcurrentDictionary<int, int>", baseline, baseline);

        Report("BoundedCache<int, int> (MaximumCount)", Measure(static () =>
        {
            var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "memory", MaximumCount = Entries });
            for (int i = 0; i < Entries; i++)
            {
                cache.Set(i, i);
            }

            return cache;
        }), baseline);

        Report("BoundedCache<int, int> (MaximumCount, every entry read since written)", Measure(static () =>
        {
            // Entries read since their write move into the recency heap when an eviction reaches them; one write past
            // the bound makes the eviction walk all of them, so this is the layout of a cache whose entries all get hits.
            var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "memory-read", MaximumCount = Entries });
            for (int i = 0; i < Entries; i++)
            {
                cache.Set(i, i);
            }

            for (int i = 0; i < Entries; i++)
            {
                cache.TryGet(i, out _);
            }

            cache.Set(Entries, Entries);
            return cache;
        }), baseline);

        Report("BoundedCache<int, int> (MaximumWeight + weigher + ExpireAfterWrite)", Measure(static () =>
        {
            var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int>
            {
                Name = "memory-timed",
                MaximumWeight = Entries,
                Weigher = static (_, _) => 1,
                ExpireAfterWrite = TimeSpan.FromHours(1),
            });
            for (int i = 0; i < Entries; i++)
            {
                cache.Set(i, i);
            }

            return cache;
        }), baseline);

        Report("BitFaster ConcurrentLru<int, int>", Measure(static () =>
        {
            var cache = new ConcurrentLru<int, int>(Entries);
            for (int i = 0; i < Entries; i++)
            {
                cache.AddOrUpdate(i, i);
            }

            return cache;
        }), baseline);

        Report("BitFaster FastConcurrentLru<int, int>", Measure(static () =>
        {
            var cache = new FastConcurrentLru<int, int>(Entries);
            for (int i = 0; i < Entries; i++)
            {
                cache.AddOrUpdate(i, i);
            }

            return cache;
        }), baseline);

        Report("BitFaster ConcurrentLfu<int, int>", Measure(static () =>
        {
            var cache = new ConcurrentLfu<int, int>(Entries);
            for (int i = 0; i < Entries; i++)
            {
                cache.AddOrUpdate(i, i);
            }

            // Its writes are buffered: measure the settled policy, every entry in its lists.
            cache.DoMaintenance();
            return cache;
        }), baseline);

        Report("MemoryCache (SizeLimit, boxed keys and values)", Measure(static () =>
        {
            var cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Entries });
            var sizeOne = new MemoryCacheEntryOptions { Size = 1 };
            for (int i = 0; i < Entries; i++)
            {
                object boxed = i;
                cache.Set(boxed, boxed, sizeOne);
            }

            return cache;
        }), baseline);
    }

    private static double Measure(Func<object> build)
    {
        long before = Collect();
        object container = build();
        long after = Collect();
        GC.KeepAlive(container);
        (container as IDisposable)?.Dispose();
        return (after - before) / (double)Entries;
    }

    private static long Collect()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static void Report(string container, double bytes, double baseline)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {container} | {bytes:F1} | {bytes / baseline:F2}x |"));
}
