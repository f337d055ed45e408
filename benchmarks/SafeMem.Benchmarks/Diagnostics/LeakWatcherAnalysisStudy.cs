using System.Diagnostics;
using System.Globalization;
using SafeMem.Benchmarks.Testing;
using SafeMem.Diagnostics;

namespace SafeMem.Benchmarks.Diagnostics;

/// <summary>
/// Console mode <c>watcher-analysis [megabytes] [retained] [repeats] [near|far]</c>: what one <see cref="LeakWatcher.AnalyzeAsync"/>
/// costs the process, with the default options and the explainer found by name, at a given live heap: the pause while
/// the runtime writes the dump (as the explainer reports it, and as a thread that ticks every millisecond sees it),
/// the wall and CPU time of the whole analysis, the memory it adds (peak resident set above the process's, managed
/// bytes allocated) and the disk the dump holds while it runs.
/// </summary>
/// <remarks>
/// The heap is ballast of small objects (an <c>object[]</c> holding a 120 to 200 byte array, about 5,000 pairs per MB,
/// like <see cref="LeakExplanationStudy"/>'s), so a walk of it visits as many objects as a real heap of that size does.
/// The ballast is held by a static field, as an application's state is (through its host, caches, singletons). The
/// retained objects are request objects kept by a list (the leak): <c>near</c> (the default), a static field of its
/// own, which the walk from the roots reaches at once; <c>far</c>, the list is the ballast's last element, so the walk
/// visits the whole heap before it reaches the leak (the worst case). Dump files go to the system's temporary
/// directory; the study checks that none is left.
/// </remarks>
public static class LeakWatcherAnalysisStudy
{
    private static readonly List<object> s_leaked = [];
    private static object[] s_ballast = [];

    public static void Run(string[] args)
    {
        int megabytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        int retained = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        int repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
        bool far = args.Length > 3 && args[3] == "far";
        object[] ballast = s_ballast = new object[megabytes * 5_000];
        var random = new Random(42);
        for (int i = 0; i < ballast.Length; i++)
        {
            ballast[i] = new object[] { new byte[random.Next(120, 200)] };
        }

        var leaked = new List<object>();
        if (far)
        {
            ballast[^1] = new object[] { leaked };
        }
        else
        {
            s_leaked.Add(leaked);
        }

        using var watcher = new LeakWatcher("study");
        for (int i = 0; i < retained; i++)
        {
            var request = new RequestObject();
            leaked.Add(request);
            watcher.Watch(request, "request ended");
        }

        while (watcher.GetStatistics().Retained < retained)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(10);
        }

        long live = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"live heap {live / 1e6:F0} MB ({ballast.Length * 2:N0} ballast objects), {retained:N0} retained objects {(far ? "behind the whole heap" : "in a static list")}, resident {Resident() / 1e6:F0} MB");
        for (int run = 1; run <= repeats; run++)
        {
            long residentBefore = Resident();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan cpuBefore = LeakExplanationStudy.CpuTime();
            using var ticker = new Ticker();
            var wall = Stopwatch.StartNew();
            LeakAnalysis analysis = watcher.AnalyzeAsync().GetAwaiter().GetResult();
            wall.Stop();
            (TimeSpan longestStall, long peakResident) = ticker.Stop();
            TimeSpan cpu = LeakExplanationStudy.CpuTime() - cpuBefore;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            string? failure = analysis.UnavailableReason;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}: dump {analysis.DumpBytes / 1e6:F0} MB written in {analysis.Pause?.TotalSeconds:F2} s (longest stall seen by a 1 ms ticker {longestStall.TotalSeconds:F2} s); " +
                $"analysis wall {wall.Elapsed.TotalSeconds:F2} s, cpu (process + createdump) {cpu.TotalSeconds:F2} s; " +
                $"peak resident +{(peakResident - residentBefore) / 1e6:F0} MB, managed allocated {allocated / 1e6:F0} MB; " +
                $"{analysis.RetainedCount:N0} objects in {analysis.Leaks.Count} group(s){(failure is null ? string.Empty : $", unavailable: {failure}")}; load average {LeakExplanationStudy.LoadAverage()}"));
        }

        string[] left = Directory.GetFiles(Path.GetTempPath(), $"safemem-{Environment.ProcessId}-*.dmp");
        Console.WriteLine(left.Length == 0 ? "no dump file left behind" : $"LEFT BEHIND: {string.Join(", ", left)}");
        s_ballast = [];
        s_leaked.Clear();
    }

    // The resident set of this process, from /proc/self/statm (Linux; elsewhere the working set).
    private static long Resident()
    {
        if (!File.Exists("/proc/self/statm"))
        {
            return Environment.WorkingSet;
        }

        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    private sealed class RequestObject
    {
        public byte[] Body { get; } = new byte[64];
    }

    /// <summary>A thread that wakes every millisecond: the longest gap between two wake-ups is the longest stall it saw.</summary>
    private sealed class Ticker : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _running = true;
        private long _longest;
        private long _peakResident;

        public Ticker()
        {
            _thread = new Thread(Tick) { IsBackground = true, Name = "stall ticker" };
            _thread.Start();
        }

        public (TimeSpan LongestStall, long PeakResident) Stop()
        {
            _running = false;
            _thread.Join();
            return (Stopwatch.GetElapsedTime(0, _longest), _peakResident);
        }

        public void Dispose()
        {
            _running = false;
        }

        private void Tick()
        {
            long last = Stopwatch.GetTimestamp();
            int beat = 0;
            while (_running)
            {
                Thread.Sleep(1);
                long now = Stopwatch.GetTimestamp();
                _longest = Math.Max(_longest, now - last);
                last = now;
                if (++beat % 20 == 0)
                {
                    _peakResident = Math.Max(_peakResident, Resident());
                }
            }
        }
    }
}
