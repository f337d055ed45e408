using System.Diagnostics;
using System.Globalization;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;
using SafeMem.Caching;
using SafeMem.Tests.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// The <c>cache-hitrate</c> console mode: replays access traces through <see cref="BoundedCache{TKey, TValue}"/> under
/// both policies, through the exact <see cref="ReferenceLru{TKey, TValue}"/> and through BitFaster's
/// <c>ConcurrentLfu</c> (W-TinyLFU, count-bound only), and prints markdown tables of hit ratios. A hit is a key found; a
/// miss inserts the key (the classic replay). Maintenance runs on the replaying thread, for both W-TinyLFU caches
/// (<c>ConcurrentLfu</c> with a <c>ForegroundScheduler</c>, TinyLfu with the internal
/// <c>BoundedCacheOptions.ApplyEveryHit</c>, which never samples hits), so every hit reaches the policy and each replay
/// is deterministic.
/// Single-threaded, so the LRU engine's replay should be exact.
/// </summary>
/// <remarks>
/// Usage: <see cref="Usage"/>. DIR defaults to
/// <c>&lt;repository&gt;/../shared/traces</c>. Three studies: every trace at several capacities, a Zipf (s = 0.86) workload,
/// and a weighted workload (Zipf keys, fixed log-normal weights) bounded by <c>MaximumWeight</c>. <c>--default</c>
/// replaces them with the default-mode study (<see cref="DefaultModeStudy"/>): TinyLfu as users get it, beside its
/// synchronous mode and BitFaster's <c>ConcurrentLfu</c> under both of its schedulers.
/// <para>
/// Both W-TinyLFU sketches hash the keys, so each count-bound row is one draw: TinyLfu's sketch mixes in its seed (42 in
/// the main tables), <c>ConcurrentLfu</c>'s hashes the key alone. <c>--seeds N</c> replaces the tables with that spread:
/// every count-bound row replayed with TinyLfu seeds 42 .. 42 + N - 1, and through <c>ConcurrentLfu</c> with the keys
/// renamed by N bijections (<c>key ^ (i * 0x9E3779B9)</c>, i = 0 .. N - 1; i = 0 is the plain trace), which moves its
/// counters as a seed would without changing the workload.
/// </para>
/// </remarks>
internal static class HitRateStudy
{
    /// <summary>The mode's arguments, as the console mode list and errors show them.</summary>
    public const string Usage = "cache-hitrate [--traces DIR] [--only TRACE|zipf|weighted] [--seeds N] [--default [--runs N] [--turn N]]";

    private static readonly int[] s_capacities = [50, 100, 500, 1000, 2000];

    public static void Run(string[] args)
    {
        string directory = CacheTraces.DefaultDirectory();
        string? only = null;
        int seeds = 0;
        bool defaultMode = false;
        int runs = 5;
        int turn = 100;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--traces" && i + 1 < args.Length)
            {
                directory = args[++i];
            }
            else if (args[i] == "--only" && i + 1 < args.Length)
            {
                only = args[++i];
            }
            else if (args[i] == "--seeds" && i + 1 < args.Length)
            {
                seeds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--default")
            {
                defaultMode = true;
            }
            else if (args[i] == "--runs" && i + 1 < args.Length)
            {
                runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--turn" && i + 1 < args.Length)
            {
                turn = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else
            {
                throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: {Usage}");
            }
        }

        var stopwatch = Stopwatch.StartNew();
        if (defaultMode)
        {
            DefaultModeStudy.Run(directory, only, runs, turn);
            Console.WriteLine($"_Replayed in {stopwatch.Elapsed.TotalSeconds:F1} s._");
            return;
        }

        if (seeds > 0)
        {
            SeedStudy(directory, only, seeds);
            Console.WriteLine($"_Replayed in {stopwatch.Elapsed.TotalSeconds:F1} s._");
            return;
        }

        if (only is null or not ("zipf" or "weighted"))
        {
            TraceStudy(directory, only);
        }

        if (only is null or "zipf")
        {
            ZipfStudy();
        }

        if (only is null or "weighted")
        {
            WeightedStudy();
        }

        Console.WriteLine($"_Replayed in {stopwatch.Elapsed.TotalSeconds:F1} s._");
    }

    private static void TraceStudy(string directory, string? only)
    {
        var notes = new List<string>();
        SortedDictionary<string, int[]> traces = CacheTraces.LoadAll(directory, notes);
        Console.WriteLine($"### Traces ({directory})");
        Console.WriteLine();
        foreach (string note in notes)
        {
            Console.WriteLine($"Note: {note}");
            Console.WriteLine();
        }

        PrintHeader("trace", "capacity");
        foreach ((string name, int[] keys) in traces.Where(t => only is null || t.Key == only))
        {
            foreach (int capacity in s_capacities)
            {
                PrintRow(name, keys.Length, capacity.ToString(CultureInfo.InvariantCulture), keys, capacity, null, null);
            }
        }

        Console.WriteLine();
    }

    private static void ZipfStudy()
    {
        const int KeySpace = 10_000;
        const int Requests = 200_000;
        int[] keys = ZipfKeys.Generate(KeySpace, Requests);
        Console.WriteLine($"### Zipf (s = {ZipfKeys.DefaultSkew}, {KeySpace:N0} keys, {Requests:N0} requests, seed 42)");
        Console.WriteLine();
        PrintHeader("workload", "capacity");
        foreach (int capacity in s_capacities)
        {
            PrintRow("zipf-0.86", keys.Length, capacity.ToString(CultureInfo.InvariantCulture), keys, capacity, null, null);
        }

        Console.WriteLine();
    }

    private static void WeightedStudy()
    {
        const int KeySpace = 10_000;
        const int Requests = 200_000;
        int[] keys = ZipfKeys.Generate(KeySpace, Requests);
        long[] weights = ZipfKeys.LogNormalWeights(KeySpace);
        long total = weights.Sum();
        Console.WriteLine($"### Weighted (Zipf s = {ZipfKeys.DefaultSkew} keys, log-normal weights median 100, sigma 1, seed 7; "
            + $"{KeySpace:N0} keys weighing {total:N0} in all; bound = MaximumWeight only)");
        Console.WriteLine();
        PrintHeader("workload", "weight bound");
        foreach (double share in new[] { 0.01, 0.05, 0.10, 0.20 })
        {
            long bound = (long)(total * share);
            PrintRow("zipf-weighted", keys.Length, $"{bound:N0} ({share:P0} of all)", keys, null, bound, weights);
        }

        Console.WriteLine();
    }

    private static void SeedStudy(string directory, string? only, int seeds)
    {
        var rows = new List<(string Name, int[] Keys)>();
        if (only is not "zipf")
        {
            var notes = new List<string>();
            rows.AddRange(CacheTraces.LoadAll(directory, notes).Where(t => only is null || t.Key == only).Select(t => (t.Key, t.Value)));
            notes.ForEach(note => Console.WriteLine($"Note: {note}"));
        }

        if (only is null or "zipf")
        {
            rows.Add(("zipf-0.86", ZipfKeys.Generate(10_000, 200_000)));
        }

        // Seeds drawn at random (from a fixed generator, so the table can be reproduced), as a user's cache draws its own:
        // consecutive small seeds would only flip the low bits of every key before the sketch's mixing, which on traces
        // of small consecutive keys maps the key set onto itself and replays nearly one hash function N times.
        var generator = new Random(42);
        int[] sketchSeeds = [.. Enumerable.Range(0, seeds).Select(_ => generator.Next())];
        Console.WriteLine($"### Seed spread ({seeds} seeds per policy; count-bound rows)");
        Console.WriteLine();
        Console.WriteLine("| workload | capacity | TinyLfu mean % | TinyLfu min - max | ConcurrentLfu mean % | ConcurrentLfu min - max | mean difference | TinyLfu seeds at or above ConcurrentLfu's plain-trace figure - 0.5 | worst TinyLfu seed - ConcurrentLfu plain trace |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach ((string name, int[] keys) in rows)
        {
            foreach (int capacity in s_capacities)
            {
                double[] tinyLfu = sketchSeeds.Select(seed => ReplayCache(keys, capacity, null, null, EvictionPolicy.TinyLfu, seed)).ToArray();
                double[] concurrentLfu = Enumerable.Range(0, seeds).Select(i => ReplayConcurrentLfu(Renamed(keys, i), capacity)).ToArray();
                int within = tinyLfu.Count(t => t >= concurrentLfu[0] - 0.5);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {name} | {capacity} | {tinyLfu.Average():F2} | {tinyLfu.Min():F2} - {tinyLfu.Max():F2} | {concurrentLfu.Average():F2} | {concurrentLfu.Min():F2} - {concurrentLfu.Max():F2} | {tinyLfu.Average() - concurrentLfu.Average():+0.00;-0.00;0.00} | {within} of {seeds} | {tinyLfu.Min() - concurrentLfu[0]:+0.00;-0.00;0.00} |"));
            }
        }

        Console.WriteLine();
    }

    /// <summary>The same workload under other key names: a bijection of the keys (i = 0 leaves them as they are).</summary>
    private static int[] Renamed(int[] keys, int i)
    {
        int mask = unchecked(i * (int)0x9E37_79B9);
        return [.. keys.Select(k => k ^ mask)];
    }

    private static double ReplayReference(int[] keys, int? capacity, long? maximumWeight, long[]? weights)
    {
        var lru = new ReferenceLru<int, int>(capacity, maximumWeight);
        long hits = 0;
        foreach (int key in keys)
        {
            if (lru.Access(key, key, weights is null ? 1 : weights[key]))
            {
                hits++;
            }
        }

        return 100.0 * hits / keys.Length;
    }

    private static double ReplayConcurrentLfu(int[] keys, int capacity)
    {
        var lfu = new ConcurrentLfu<int, int>(1, capacity, new ForegroundScheduler(), EqualityComparer<int>.Default);
        long hits = 0;
        foreach (int key in keys)
        {
            if (lfu.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                lfu.AddOrUpdate(key, key);
            }
        }

        return 100.0 * hits / keys.Length;
    }

    private static double ReplayCache(int[] keys, int? capacity, long? maximumWeight, long[]? weights, EvictionPolicy policy, int seed = 42)
    {
        var options = new BoundedCacheOptions<int, int>
        {
            Name = "hitrate",
            MaximumCount = capacity,
            MaximumWeight = maximumWeight,
            EvictionPolicy = policy,
            PolicySeed = seed,

            // The synchronous mode, the policy's ceiling: no hit sampled out however long a run of hits (the default mode
            // matches it on one thread below 1,024 hits in a row; the --default study shows both).
            ApplyEveryHit = true,
        };
        if (weights is not null)
        {
            options.Weigher = (key, _) => weights[key];
        }

        using var cache = new BoundedCache<int, int>(options);
        long hits = 0;
        foreach (int key in keys)
        {
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.Set(key, key);
            }
        }

        return 100.0 * hits / keys.Length;
    }

    private static void PrintHeader(string what, string bound)
    {
        Console.WriteLine($"| {what} | requests | {bound} | exact LRU % | BoundedCache Lru % | BoundedCache TinyLfu % | BitFaster ConcurrentLfu % | TinyLfu - LRU | TinyLfu - ConcurrentLfu |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    }

    private static void PrintRow(string name, int requests, string bound, int[] keys, int? capacity, long? maximumWeight, long[]? weights)
    {
        double reference = ReplayReference(keys, capacity, maximumWeight, weights);
        double lru = ReplayCache(keys, capacity, maximumWeight, weights, EvictionPolicy.Lru);
        double tinyLfu = ReplayCache(keys, capacity, maximumWeight, weights, EvictionPolicy.TinyLfu);
        string lfu = "n/a", versusLfu = "n/a";
        if (capacity is int count && maximumWeight is null && count >= 3)
        {
            double concurrentLfu = ReplayConcurrentLfu(keys, count);
            lfu = concurrentLfu.ToString("F2", CultureInfo.InvariantCulture);
            versusLfu = (tinyLfu - concurrentLfu).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {requests:N0} | {bound} | {reference:F2} | {lru:F2} | {tinyLfu:F2} | {lfu} | {tinyLfu - reference:+0.00;-0.00;0.00} | {versusLfu} |"));
    }
}
