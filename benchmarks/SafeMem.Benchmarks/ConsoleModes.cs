namespace SafeMem.Benchmarks;

/// <summary>
/// The benchmark program's console modes: measurements BenchmarkDotNet is not built for. Each block's folder adds
/// its modes to <see cref="s_modes"/>.
/// </summary>
public static class ConsoleModes
{
    private static readonly Dictionary<string, (string Description, Action<string[]> Run)> s_modes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["modes"] = ("list the console modes", static _ => List()),
        ["registry-throughput"] = ("multi-threaded WeakValueRegistry hits vs a locked Dictionary: [threads] [seconds]", Registries.WeakValueRegistryThroughput.Run),
        ["cache-hitrate"] = ("hit ratio of BoundedCache (both policies) vs exact LRU and BitFaster ConcurrentLfu on traces, Zipf and weighted workloads; --default: TinyLfu as users get it, 1 and 2 threads, beside its synchronous mode and BitFaster's schedulers: " + Caching.HitRateStudy.Usage, Caching.HitRateStudy.Run),
        ["cache-throughput"] = ("Mops/s on 1 and 2 threads: BoundedCache, MemoryCache, BitFaster, naive LRU [--seconds N]", Caching.ThroughputStudy.Run),
        ["events-churn"] = ("subscribe/unsubscribe per operation (min, p25, median): weak sources, WeakEventSubscription, messenger [repetitions]", Events.WeakEventChurnStudy.Run),
        ["events-gc"] = ("gen2 pause and bytes per subscription with 100,000 live weak subscriptions vs none, messenger side by side [count]", Events.WeakEventGcStudy.Run),
        ["no-growth"] = ("time of a passing LeakAssert.NoGrowth (100 runs, three snapshots): [megabytes of heap] [repeats]", Testing.NoGrowthStudy.Run),
        ["leak-explain"] = ("wall and CPU time of a failing LeakAssert with its explanation: [megabytes of heap] [repeats]", Testing.LeakExplanationStudy.Run),
        ["watcher-analysis"] = ("cost of one LeakWatcher.AnalyzeAsync: pause, wall and CPU time, memory, dump size: [megabytes of heap] [retained objects] [repeats]", Diagnostics.LeakWatcherAnalysisStudy.Run),
        ["cache-memory"] = ("bytes per entry (1M int entries): BoundedCache, MemoryCache, BitFaster, ConcurrentDictionary", Caching.MemoryPerEntryStudy.Run),
        ["hybrid-outage"] = ("HybridCache over redis-server: hit/miss latency with Redis up, killed, frozen; recovery [--misses N]", Caching.HybridOutageStudy.Run),
        ["hybrid-backplane"] = ("Redis backplane between node processes: time until another node serves a change, and a control without it [--changes N] [--timeout-ms N]", Caching.HybridBackplaneStudy.Run),
    };

    /// <summary>Runs the mode named by <paramref name="args"/>[0], if there is one.</summary>
    public static bool TryRun(string[] args)
    {
        if (!s_modes.TryGetValue(args[0], out (string Description, Action<string[]> Run) mode))
        {
            return false;
        }

        mode.Run(args[1..]);
        return true;
    }

    private static void List()
    {
        Console.WriteLine("Console modes (dotnet run -c Release --project benchmarks/SafeMem.Benchmarks -- <mode>):");
        foreach ((string name, (string description, _)) in s_modes.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {name,-16} {description}");
        }

        Console.WriteLine("Anything else is passed to BenchmarkDotNet's switcher (e.g. --filter '*', --list flat).");
    }
}
