using System.Diagnostics;
using SafeMem.Registries;

namespace SafeMem.Benchmarks.Registries;

/// <summary>
/// Console mode <c>registry-throughput [threads] [seconds]</c>: lookups per second when every thread hammers the same
/// 1,024 ids, for WeakValueRegistry.GetOrAdd (hits) against a Dictionary under a lock. BenchmarkDotNet is
/// single-threaded, and the point of a lock-free hit path only shows under contention.
/// </summary>
public static class WeakValueRegistryThroughput
{
    public static void Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;
        object[] values = Enumerable.Range(0, 1024).Select(_ => new object()).ToArray();

        var registry = new WeakValueRegistry<int, object>("throughput");
        var dictionary = new Dictionary<int, object>();
        var gate = new object();
        for (int i = 0; i < values.Length; i++)
        {
            registry.TryAdd(i, values[i]);
            dictionary.Add(i, values[i]);
        }

        Console.WriteLine($"{threads} threads, {seconds} s each, 1,024 live ids, Environment.ProcessorCount = {Environment.ProcessorCount}");
        Report("LockedDictionary TryGetValue", Measure(threads, seconds, id =>
        {
            lock (gate)
            {
                return dictionary[id];
            }
        }));
        Report("WeakValueRegistry GetOrAdd (hit)", Measure(threads, seconds, id => registry.GetOrAdd(id, static _ => new object())));
        GC.KeepAlive(values);
    }

    private static long Measure(int threads, double seconds, Func<int, object> lookup)
    {
        long total = 0;
        var stopwatch = Stopwatch.StartNew();
        TimeSpan duration = TimeSpan.FromSeconds(seconds);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
        {
            long count = 0;
            int id = thread * 37;
            while (stopwatch.Elapsed < duration)
            {
                for (int i = 0; i < 1024; i++)
                {
                    id = (id + 1) & 1023;
                    _ = lookup(id);
                }

                count += 1024;
            }

            Interlocked.Add(ref total, count);
        });
        return (long)(total / stopwatch.Elapsed.TotalSeconds);
    }

    private static void Report(string name, long perSecond) => Console.WriteLine($"  {name,-36} {perSecond,15:N0} lookups/s");
}
