using System.Diagnostics;
using System.Globalization;
using SafeMem.Testing;

namespace SafeMem.Benchmarks.Testing;

/// <summary>
/// Console mode <c>leak-explain [megabytes] [repeats]</c>: the failing-assertion scenario of
/// <see cref="LeakExplanationBenchmarks"/>, timed by wall clock and by CPU time (this process plus its children, i.e.
/// the runtime's <c>createdump</c>). On a machine shared with other work the wall time stretches; the CPU time says
/// what the explanation itself costs, and on an otherwise idle machine the wall time approaches it.
/// </summary>
public static class LeakExplanationStudy
{
    private static readonly List<object> s_leaks = [];

    public static void Run(string[] args)
    {
        int megabytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        int repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        object[] ballast = new object[megabytes * 5_000];
        var random = new Random(42);
        for (int i = 0; i < ballast.Length; i++)
        {
            ballast[i] = new[] { new byte[random.Next(120, 200)] };
        }

        Console.WriteLine($"heap: {GC.GetTotalMemory(forceFullCollection: true) / 1e6:F0} MB live, {ballast.Length:N0} ballast objects (+ one array each)");
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
}
