using System.Diagnostics;
using System.Globalization;
using SafeMem.Testing;

namespace SafeMem.Benchmarks.Testing;

/// <summary>
/// Console mode <c>no-growth [megabytes] [repeats]</c>: how long <see cref="LeakAssert.NoGrowth(Action, NoGrowthOptions)"/>
/// takes for 100 runs of a cheap operation that does not leak (10 warm-up runs, then stretches of 30 and 60 runs, three
/// snapshots), on a heap of about that many megabytes held by a static dictionary, by wall clock and by CPU time of the
/// process and its children (<c>createdump</c>). A passing assertion is the common case; a failing one adds the paths.
/// </summary>
public static class NoGrowthStudy
{
    private static Dictionary<int, Customer>? s_customers;

    public static void Run(string[] args)
    {
        int megabytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        int repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var random = new Random(42);
        s_customers = new Dictionary<int, Customer>(megabytes * 5_000);
        for (int i = 0; i < megabytes * 5_000; i++)
        {
            s_customers[i] = new Customer("customer-" + i.ToString(CultureInfo.InvariantCulture), [random.Next(), random.Next(), random.Next(), random.Next()]);
        }

        Console.WriteLine($"heap: {GC.GetTotalMemory(forceFullCollection: true) / 1e6:F0} MB live, {s_customers.Count:N0} customers in a static dictionary");
        var options = new NoGrowthOptions { WarmupIterations = 10, Iterations = 30 };
        var lookups = new Dictionary<int, int>();
        for (int run = 0; run < repeats; run++)
        {
            TimeSpan cpuBefore = CpuTime();
            var wall = Stopwatch.StartNew();
            LeakAssert.NoGrowth(() => lookups[random.Next(100)] = s_customers[random.Next(s_customers.Count)].Orders.Count, options);
            wall.Stop();
            Console.WriteLine($"run {run + 1}: 100 runs, 3 snapshots: wall {wall.Elapsed.TotalSeconds:F2} s, cpu (process + createdump) {(CpuTime() - cpuBefore).TotalSeconds:F2} s, load average {LoadAverage()}");
        }

        s_customers = null;
    }

    // utime + stime of this process and of its reaped children (createdump), from /proc/self/stat (Linux only).
    private static TimeSpan CpuTime()
    {
        if (!File.Exists("/proc/self/stat"))
        {
            return Process.GetCurrentProcess().TotalProcessorTime;
        }

        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
            + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private sealed record Customer(string Name, List<int> Orders);
}
