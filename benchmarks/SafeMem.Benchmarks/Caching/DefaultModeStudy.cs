using System.Globalization;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;
using SafeMem.Caching;
using SafeMem.Tests.Caching;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// The <c>cache-hitrate --default</c> study: TinyLfu's hit ratio as users get it (default options, no internal switch:
/// hits reach the policy however the shipped cache delivers them), beside its synchronous mode (the internal
/// <c>ApplyEveryHit</c>, where every hit reaches the policy: the ceiling) and BitFaster's <c>ConcurrentLfu</c> with
/// both of its schedulers.
/// </summary>
/// <remarks>
/// <para>
/// Every row is replayed <c>--runs</c> times (5 by default). Run i draws a random sketch seed, as a user's cache does,
/// and replays the trace three times with it: in the synchronous mode, in the default mode on one thread, and in the
/// default mode on two threads taking turns (each replays <c>--turn</c> requests, 100 by default, then hands over to the
/// other and waits for its turn to come back). The same seed in all three makes each difference a paired one: what the
/// default mode loses to its own policy, not to a luckier seed. Each default column shows the worst run and the spread.
/// </para>
/// <para>
/// <c>ConcurrentLfu</c> is replayed with a <c>ForegroundScheduler</c> (its maintenance on the replaying thread: it holds
/// its bound, one figure) and with its default scheduler (maintenance on the thread pool, <c>--runs</c> times), whose
/// <c>Count</c> is read after every write: its largest value says how far beyond its capacity that cache went while it
/// was measured. <c>BoundedCache</c> holds its bound before every write returns, in every mode.
/// </para>
/// </remarks>
internal static class DefaultModeStudy
{
    private static readonly int[] s_capacities = [50, 100, 500, 1000, 2000];

    public static void Run(string directory, string? only, int runs, int turn)
    {
        Console.WriteLine($"Load average at start: {LoadAverage()}; {Environment.ProcessorCount} logical cores.");
        Console.WriteLine();
        if (only is null or not ("zipf" or "weighted"))
        {
            var notes = new List<string>();
            SortedDictionary<string, int[]> traces = CacheTraces.LoadAll(directory, notes);
            Console.WriteLine($"### Default mode: traces ({directory}; {runs} runs, turns of {turn} requests)");
            Console.WriteLine();
            notes.ForEach(note => Console.WriteLine($"Note: {note}"));
            PrintCountHeader("trace");
            foreach ((string name, int[] keys) in traces.Where(t => only is null || t.Key == only))
            {
                foreach (int capacity in s_capacities)
                {
                    PrintCountRow(name, keys, capacity, runs, turn);
                }
            }

            Console.WriteLine();
        }

        if (only is null or "zipf")
        {
            int[] keys = ZipfKeys.Generate(10_000, 200_000);
            Console.WriteLine($"### Default mode: Zipf (s = {ZipfKeys.DefaultSkew}, 10,000 keys, 200,000 requests, seed 42; {runs} runs, turns of {turn} requests)");
            Console.WriteLine();
            PrintCountHeader("workload");
            foreach (int capacity in s_capacities)
            {
                PrintCountRow("zipf-0.86", keys, capacity, runs, turn);
            }

            Console.WriteLine();
        }

        if (only is null or "weighted")
        {
            WeightedRows(runs, turn);
        }

        Console.WriteLine($"Load average at end: {LoadAverage()}.");
    }

    private static void PrintCountHeader(string what)
    {
        Console.WriteLine($"| {what} | capacity | TinyLfu synchronous % (min - max) | default, 1 thread: worst (min - max) | worst paired difference | default, 2 threads taking turns: worst (min - max) | worst paired difference | ConcurrentLfu foreground % | ConcurrentLfu default % (min - max) | its largest Count | default worst - ConcurrentLfu foreground |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    }

    private static void PrintCountRow(string name, int[] keys, int capacity, int runs, int turn)
    {
        (double[] sync, double[] one, double[] two) = ReplayModes(keys, capacity, null, null, runs, turn);
        double foreground = ReplayConcurrentLfu(keys, capacity, foreground: true, out _);
        var background = new double[runs];
        int largest = 0;
        for (int i = 0; i < runs; i++)
        {
            background[i] = ReplayConcurrentLfu(keys, capacity, foreground: false, out int count);
            largest = Math.Max(largest, count);
        }

        double worst = Math.Min(one.Min(), two.Min());
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {capacity} | {Spread(sync)} | {one.Min():F2} ({Spread(one)}) | {WorstDifference(one, sync)} | {two.Min():F2} ({Spread(two)}) | {WorstDifference(two, sync)} | {foreground:F2} | {Spread(background)} | {largest} | {Signed(worst - foreground)} |"));
    }

    private static void WeightedRows(int runs, int turn)
    {
        int[] keys = ZipfKeys.Generate(10_000, 200_000);
        long[] weights = ZipfKeys.LogNormalWeights(10_000);
        long total = weights.Sum();
        Console.WriteLine($"### Default mode: weighted (Zipf s = {ZipfKeys.DefaultSkew} keys, log-normal weights median 100, sigma 1, seed 7; bound = MaximumWeight only; {runs} runs, turns of {turn} requests)");
        Console.WriteLine();
        Console.WriteLine("| workload | weight bound | exact LRU % | TinyLfu synchronous % (min - max) | default, 1 thread: worst (min - max) | worst paired difference | default, 2 threads taking turns: worst (min - max) | worst paired difference | default worst - LRU |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (double share in new[] { 0.01, 0.05, 0.10, 0.20 })
        {
            long bound = (long)(total * share);
            double lru = ReplayReference(keys, bound, weights);
            (double[] sync, double[] one, double[] two) = ReplayModes(keys, null, bound, weights, runs, turn);
            double worst = Math.Min(one.Min(), two.Min());
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| zipf-weighted | {bound:N0} ({share:P0} of all) | {lru:F2} | {Spread(sync)} | {one.Min():F2} ({Spread(one)}) | {WorstDifference(one, sync)} | {two.Min():F2} ({Spread(two)}) | {WorstDifference(two, sync)} | {Signed(worst - lru)} |"));
        }

        Console.WriteLine();
    }

    /// <summary>Replays every run in the three modes, each run with its own random seed shared by its three replays.</summary>
    private static (double[] Sync, double[] One, double[] Two) ReplayModes(int[] keys, int? capacity, long? maximumWeight, long[]? weights, int runs, int turn)
    {
        var sync = new double[runs];
        var one = new double[runs];
        var two = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            int seed = Random.Shared.Next();
            sync[i] = Replay(keys, capacity, maximumWeight, weights, seed, synchronous: true, turn: 0);
            one[i] = Replay(keys, capacity, maximumWeight, weights, seed, synchronous: false, turn: 0);
            two[i] = Replay(keys, capacity, maximumWeight, weights, seed, synchronous: false, turn: turn);
        }

        return (sync, one, two);
    }

    /// <summary>One replay through the public API; <paramref name="turn"/> 0 means one thread.</summary>
    private static double Replay(int[] keys, int? capacity, long? maximumWeight, long[]? weights, int seed, bool synchronous, int turn)
    {
        var options = new BoundedCacheOptions<int, int>
        {
            Name = "hitrate-default",
            MaximumCount = capacity,
            MaximumWeight = maximumWeight,
            EvictionPolicy = EvictionPolicy.TinyLfu,

            // Only to pair this run with its synchronous twin; a user's cache draws its own seed the same way.
            PolicySeed = seed,
            ApplyEveryHit = synchronous,
        };
        if (weights is not null)
        {
            options.Weigher = (key, _) => weights[key];
        }

        using var cache = new BoundedCache<int, int>(options);
        long hits = turn == 0 ? ReplayRange(cache, keys, 0, keys.Length) : ReplayTakingTurns(cache, keys, turn);
        if (cache.Count > (capacity ?? int.MaxValue) || cache.Weight > (maximumWeight ?? long.MaxValue))
        {
            throw new InvalidOperationException("The cache went over its bound.");
        }

        return 100.0 * hits / keys.Length;
    }

    private static long ReplayRange(BoundedCache<int, int> cache, int[] keys, int start, int end)
    {
        long hits = 0;
        for (int i = start; i < end; i++)
        {
            int key = keys[i];
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.Set(key, key);
            }
        }

        return hits;
    }

    /// <summary>Two threads replay the trace in turns of <paramref name="turn"/> requests; never both at once.</summary>
    private static long ReplayTakingTurns(BoundedCache<int, int> cache, int[] keys, int turn)
    {
        using var first = new SemaphoreSlim(1);
        using var second = new SemaphoreSlim(0);
        long hits = 0;
        Exception? failure = null;
        Thread Start(SemaphoreSlim mine, SemaphoreSlim other, int parity)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    long own = 0;
                    for (int start = parity * turn; start < keys.Length; start += 2 * turn)
                    {
                        mine.Wait();
                        own += ReplayRange(cache, keys, start, Math.Min(start + turn, keys.Length));
                        other.Release();
                    }

                    Interlocked.Add(ref hits, own);
                }
                catch (Exception ex)
                {
                    failure = ex;
                    other.Release();
                }
            });
            thread.Start();
            return thread;
        }

        Thread a = Start(first, second, 0);
        Thread b = Start(second, first, 1);
        a.Join();
        b.Join();
        return failure is null ? hits : throw new InvalidOperationException("A replaying thread failed.", failure);
    }

    private static double ReplayConcurrentLfu(int[] keys, int capacity, bool foreground, out int largestCount)
    {
        ConcurrentLfu<int, int> lfu = foreground
            ? new ConcurrentLfu<int, int>(1, capacity, new ForegroundScheduler(), EqualityComparer<int>.Default)
            : new ConcurrentLfu<int, int>(capacity);
        long hits = 0;
        largestCount = 0;
        foreach (int key in keys)
        {
            if (lfu.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                lfu.AddOrUpdate(key, key);
                largestCount = Math.Max(largestCount, lfu.Count);
            }
        }

        return 100.0 * hits / keys.Length;
    }

    private static double ReplayReference(int[] keys, long maximumWeight, long[] weights)
    {
        var lru = new ReferenceLru<int, int>(null, maximumWeight);
        long hits = 0;
        foreach (int key in keys)
        {
            if (lru.Access(key, key, weights[key]))
            {
                hits++;
            }
        }

        return 100.0 * hits / keys.Length;
    }

    private static string Spread(double[] values)
        => string.Create(CultureInfo.InvariantCulture, $"{values.Min():F2} - {values.Max():F2}");

    private static string WorstDifference(double[] mode, double[] sync)
        => Signed(mode.Zip(sync, static (m, s) => m - s).Min());

    private static string Signed(double value) => value.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
