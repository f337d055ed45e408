using System.Diagnostics;
using System.Globalization;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Memory;
using SafeMem.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// The <c>cache-throughput</c> console mode: million operations per second on 1 and 2 threads, Zipf (s = 0.86) keys,
/// 90% reads and 10% writes, for <see cref="BoundedCache{TKey, TValue}"/> (both eviction policies), <see cref="MemoryCache"/> (with a
/// <c>SizeLimit</c>), the naive lock + LinkedList LRU, and BitFaster.Caching's <see cref="ConcurrentLru{K, V}"/>,
/// <see cref="FastConcurrentLru{K, V}"/> and <see cref="BitFaster.Caching.Lfu.ConcurrentLfu{K, V}"/> (whose maintenance runs on the thread
/// pool, so on 2 threads it competes with the workers for the machine's cores, as it would in an application).
/// </summary>
/// <remarks>
/// Usage: <c>cache-throughput [--seconds N]</c> (default 3 per run). 100,000 keys, capacity 10,000; each thread replays
/// its own pre-generated key sequence (its own seed), so generating keys costs nothing during the run. MemoryCache gets
/// keys boxed once in advance. Hit ratios are printed so a fast-but-useless cache would show.
/// </remarks>
internal static class ThroughputStudy
{
    private const int KeySpace = 100_000;
    private const int Capacity = 10_000;
    private const int SequenceLength = 1 << 20;

    public static void Run(string[] args)
    {
        double seconds = 3;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seconds" && i + 1 < args.Length)
            {
                seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else
            {
                throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: cache-throughput [--seconds N]");
            }
        }

        var boxes = new object[KeySpace];
        for (int i = 0; i < boxes.Length; i++)
        {
            boxes[i] = i;
        }

        int[][] sequences = [ZipfKeys.Generate(KeySpace, SequenceLength, seed: 1), ZipfKeys.Generate(KeySpace, SequenceLength, seed: 2)];
        TimeSpan duration = TimeSpan.FromSeconds(seconds);
        Console.WriteLine($"Zipf s = {ZipfKeys.DefaultSkew}, {KeySpace:N0} keys, capacity {Capacity:N0}, 90% reads / 10% writes, {seconds:F0} s per run, "
            + $"{Environment.ProcessorCount} logical processors.");
        Console.WriteLine();
        Console.WriteLine("| cache | threads | Mops/s | hit ratio % |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (EvictionPolicy policy in Enum.GetValues<EvictionPolicy>())
            {
                using var cache = new BoundedCache<int, int>(new BoundedCacheOptions<int, int> { Name = "throughput", MaximumCount = Capacity, EvictionPolicy = policy });
                Report(policy == EvictionPolicy.Lru ? "BoundedCache" : "BoundedCache TinyLfu", threads, Measure(threads, duration, sequences, (key, write) =>
                {
                    if (write)
                    {
                        cache.Set(key, key);
                        return false;
                    }

                    return cache.TryGet(key, out _);
                }));
            }

            var concurrentLfu = new BitFaster.Caching.Lfu.ConcurrentLfu<int, int>(Capacity);
            Report("BitFaster ConcurrentLfu", threads, Measure(threads, duration, sequences, (key, write) =>
            {
                if (write)
                {
                    concurrentLfu.AddOrUpdate(key, key);
                    return false;
                }

                return concurrentLfu.TryGet(key, out _);
            }));

            var concurrentLru = new BitFaster.Caching.Lru.ConcurrentLru<int, int>(Capacity);
            Report("BitFaster ConcurrentLru", threads, Measure(threads, duration, sequences, (key, write) =>
            {
                if (write)
                {
                    concurrentLru.AddOrUpdate(key, key);
                    return false;
                }

                return concurrentLru.TryGet(key, out _);
            }));

            var fastConcurrentLru = new FastConcurrentLru<int, int>(Capacity);
            Report("BitFaster FastConcurrentLru", threads, Measure(threads, duration, sequences, (key, write) =>
            {
                if (write)
                {
                    fastConcurrentLru.AddOrUpdate(key, key);
                    return false;
                }

                return fastConcurrentLru.TryGet(key, out _);
            }));

            using (var memoryCache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Capacity }))
            {
                var sizeOne = new MemoryCacheEntryOptions { Size = 1 };
                Report("MemoryCache", threads, Measure(threads, duration, sequences, (key, write) =>
                {
                    object boxed = boxes[key];
                    if (write)
                    {
                        memoryCache.Set(boxed, boxed, sizeOne);
                        return false;
                    }

                    return memoryCache.TryGetValue(boxed, out _);
                }));
            }

            var naive = new NaiveLruCache<int, int>(Capacity);
            Report("lock + LinkedList LRU", threads, Measure(threads, duration, sequences, (key, write) =>
            {
                if (write)
                {
                    naive.Set(key, key);
                    return false;
                }

                return naive.TryGet(key, out _);
            }));
        }
    }

    private static (double Mops, double HitRatio) Measure(int threads, TimeSpan duration, int[][] sequences, Func<int, bool, bool> access)
    {
        // A discarded quarter-length run first: the same code paths reach tier-1 JIT and the cache its steady state,
        // so the cache measured first is not penalized.
        _ = MeasureOnce(threads, duration / 4, sequences, access);
        return MeasureOnce(threads, duration, sequences, access);
    }

    private static (double Mops, double HitRatio) MeasureOnce(int threads, TimeSpan duration, int[][] sequences, Func<int, bool, bool> access)
    {
        long operations = 0, reads = 0, hits = 0;
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        var stopwatch = new Stopwatch();
        bool stop = false;
        for (int t = 0; t < threads; t++)
        {
            int[] keys = sequences[t % sequences.Length];
            workers[t] = new Thread(() =>
            {
                long ops = 0, myReads = 0, myHits = 0;
                int index = 0;
                start.SignalAndWait();
                while (!Volatile.Read(ref stop))
                {
                    for (int i = 0; i < 1024; i++)
                    {
                        int key = keys[index];
                        index = (index + 1) & (SequenceLength - 1);

                        // Every tenth operation is a write; the rest are reads.
                        bool write = (ops + i) % 10 == 9;
                        bool hit = access(key, write);
                        if (!write)
                        {
                            myReads++;
                            if (hit)
                            {
                                myHits++;
                            }
                        }
                    }

                    ops += 1024;
                }

                Interlocked.Add(ref operations, ops);
                Interlocked.Add(ref reads, myReads);
                Interlocked.Add(ref hits, myHits);
            })
            {
                IsBackground = true,
            };
            workers[t].Start();
        }

        start.SignalAndWait();
        stopwatch.Start();
        Thread.Sleep(duration);
        Volatile.Write(ref stop, true);
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        stopwatch.Stop();
        return (operations / stopwatch.Elapsed.TotalSeconds / 1e6, 100.0 * hits / Math.Max(1, reads));
    }

    private static void Report(string cache, int threads, (double Mops, double HitRatio) result)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cache} | {threads} | {result.Mops:F2} | {result.HitRatio:F1} |"));
}
