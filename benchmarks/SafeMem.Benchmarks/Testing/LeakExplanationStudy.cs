using System.Diagnostics;
using System.Globalization;
using SafeMem.Testing;

namespace SafeMem.Benchmarks.Testing;

/// <summary>
/// Console mode <c>leak-explain [megabytes] [repeats] [local|static]</c>: the failing-assertion scenario of
/// <see cref="LeakExplanationBenchmarks"/>, timed by wall clock and by CPU time (this process plus its children, i.e.
/// the runtime's <c>createdump</c>). The ballast is held by a local of the study (<c>local</c>, the default), or, as an
/// application's data is, by a static dictionary of records with a string and a list each (<c>static</c>): then the
/// search for the path walks the ballast from the static roots, as it would in a real service. On a machine shared with other work the wall time stretches; the CPU time says
/// what the explanation itself costs, and on an otherwise idle machine the wall time approaches it.
/// </summary>
public static class LeakExplanationStudy
{
    // The planted leak the study explains: it must only grow.
#pragma warning disable SM1001
    private static readonly List<object> s_leaks = [];
#pragma warning restore SM1001
    private static Dictionary<int, Customer>? s_customers;

    public static void Run(string[] args)
    {
        int megabytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        int repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        bool held = args.Length > 2 && args[2] == "static";
        object[] ballast = held ? [] : new object[megabytes * 5_000];
        var random = new Random(42);
        for (int i = 0; i < ballast.Length; i++)
        {
            ballast[i] = new[] { new byte[random.Next(120, 200)] };
        }

        if (held)
        {
            // About 200 bytes per customer with its name, list and list array: 5,000 per megabyte, as above.
            s_customers = new Dictionary<int, Customer>(megabytes * 5_000);
            for (int i = 0; i < megabytes * 5_000; i++)
            {
                s_customers[i] = new Customer("customer-" + i.ToString(CultureInfo.InvariantCulture), [random.Next(), random.Next(), random.Next(), random.Next()]);
            }
        }

        Console.WriteLine($"heap: {GC.GetTotalMemory(forceFullCollection: true) / 1e6:F0} MB live, {(held ? $"{s_customers!.Count:N0} customers (a string and a list each) in a static dictionary" : $"{ballast.Length:N0} ballast objects (+ one array each) in a local")}");
        for (int run = 0; run < repeats; run++)
        {
            TimeSpan cpuBefore = CpuTime();
            var wall = Stopwatch.StartNew();
            int paths = 0;
            try
            {
                LeakAssert.Collected(static () =>
                {
                    var item = new object[1];
                    s_leaks.Add(item);
                    return item;
                });
            }
            catch (LeakException failure)
            {
                paths = failure.RetentionPaths.Count;
            }

            wall.Stop();
            TimeSpan cpu = CpuTime() - cpuBefore;
            Console.WriteLine($"run {run + 1}: wall {wall.Elapsed.TotalSeconds:F2} s, cpu (process + createdump) {cpu.TotalSeconds:F2} s, {paths} path(s), load average {LoadAverage()}");
        }

        GC.KeepAlive(ballast);
        s_customers = null;
    }

    // utime + stime of this process and of its reaped children (createdump), from /proc/self/stat (Linux only). Shared
    // with the leak watcher's analysis study.
    internal static TimeSpan CpuTime()
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

    internal static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private sealed record Customer(string Name, List<int> Orders);
}
