using System.Globalization;
using System.Text;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Testing;

// LeakAssert.NoGrowth: the leak the test does not name. The verdict is the heap engine's growth classifier
// (HeapGrowthAnalyzer), the one the command-line tool's growth command uses too.
public static partial class LeakAssert
{
    /// <summary>
    /// Asserts that running <paramref name="operation"/> again and again does not grow the heap: after a warm-up, no type
    /// gains instances in proportion to the number of runs (tracemalloc's snapshot, run, <c>compare_to</c> workflow, as
    /// an assertion). Uses the defaults of <see cref="NoGrowthOptions"/>.
    /// </summary>
    /// <param name="operation">The operation suspected of leaking (handle one message, serve one request).</param>
    /// <exception cref="ArgumentNullException"><paramref name="operation"/> is <see langword="null"/>.</exception>
    /// <exception cref="HeapSnapshotUnavailableException">The process could not dump itself, so the heap cannot be compared (the reason says why).</exception>
    /// <exception cref="LeakException">A type grew with the runs: the message lists each (instances and bytes per run) with the retention path of a new instance.</exception>
    public static void NoGrowth(Action operation) => NoGrowth(operation, new NoGrowthOptions());

    /// <summary>
    /// Asserts that running <paramref name="operation"/> again and again does not grow the heap (see
    /// <see cref="NoGrowth(Action)"/>).
    /// </summary>
    /// <param name="operation">The operation suspected of leaking.</param>
    /// <param name="options">The runs and snapshots.</param>
    /// <remarks>
    /// The operation runs <see cref="NoGrowthOptions.WarmupIterations"/> times, then a snapshot is taken (full
    /// collections, a dump of the process), then for each of <see cref="NoGrowthOptions.Stretches"/> stretches: the
    /// operation runs k × <see cref="NoGrowthOptions.Iterations"/> times (k = 1, 2, ...) and a snapshot is taken. A type
    /// fails the assertion when its live instances rose over every stretch in proportion to the stretch's runs (per run,
    /// at least three quarters as fast as in the fastest stretch before): warm-up slows down and stops, and what rises
    /// with the snapshots or with time (a timer of the test runner) rises no faster in a longer stretch; growth keeps
    /// its pace per run. Objects other threads create meanwhile count too: run it where nothing
    /// else allocates for good (a non-parallel test collection). An exception from the operation propagates unchanged,
    /// after the snapshots taken so far are released.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="operation"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="HeapSnapshotUnavailableException">The process could not dump itself (the reason says why).</exception>
    /// <exception cref="LeakException">A type grew with the runs.</exception>
    public static void NoGrowth(Action operation, NoGrowthOptions options)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(options);
        using var series = new GrowthSeries(options);
        Run(operation, options.WarmupIterations);
        series.Sample(0);
        for (int stretch = 1; stretch <= options.Stretches; stretch++)
        {
            Run(operation, stretch * options.Iterations);
            series.Sample(GrowthSeries.RunsAfter(stretch, options));
        }

        series.Judge();

        static void Run(Action operation, int times)
        {
            for (int i = 0; i < times; i++)
            {
                operation();
            }
        }
    }

    /// <summary>
    /// Asserts that running an asynchronous <paramref name="operation"/> again and again (each run awaited before the
    /// next) does not grow the heap (see <see cref="NoGrowth(Action, NoGrowthOptions)"/>).
    /// </summary>
    /// <param name="operation">The asynchronous operation suspected of leaking.</param>
    /// <param name="options">The runs and snapshots, or <see langword="null"/> for the defaults.</param>
    /// <returns>A task that completes when the assertion passed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="operation"/> is <see langword="null"/>.</exception>
    /// <exception cref="HeapSnapshotUnavailableException">The process could not dump itself (the reason says why).</exception>
    /// <exception cref="LeakException">A type grew with the runs.</exception>
    public static async Task NoGrowthAsync(Func<Task> operation, NoGrowthOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(operation);
        options ??= new NoGrowthOptions();
        using var series = new GrowthSeries(options);
        await RunAsync(operation, options.WarmupIterations).ConfigureAwait(false);
        series.Sample(0);
        for (int stretch = 1; stretch <= options.Stretches; stretch++)
        {
            await RunAsync(operation, stretch * options.Iterations).ConfigureAwait(false);
            series.Sample(GrowthSeries.RunsAfter(stretch, options));
        }

        series.Judge();

        static async Task RunAsync(Func<Task> operation, int times)
        {
            for (int i = 0; i < times; i++)
            {
                await (operation() ?? throw new InvalidOperationException("The operation returned a null task.")).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The snapshots of one NoGrowth call. Only the first and the latest stay open (the first for the paths of old
    /// instances, the latest for those of new ones); the others keep their rows and release their dumps at once.
    /// </summary>
    /// <remarks>
    /// Stretch k runs the operation k times <see cref="NoGrowthOptions.Iterations"/> times, and a type must rise per run
    /// at least three quarters as fast in each stretch as in the fastest before it. What rises with the snapshots or
    /// with time rather than with the runs (a test runner's timer, the pending timeout of a diagnostics call, another
    /// thread's slow work) rises about as much in a long stretch as in a short one, so its rise per run halves and it is
    /// not taken for growth; a leak rises in proportion to the runs.
    /// </remarks>
    private sealed class GrowthSeries(NoGrowthOptions options) : IDisposable
    {
        private const double DecayTolerance = 0.75;
        private readonly List<HeapGrowthSample> _samples = [];

        /// <summary>The runs done after the warm-up by the end of stretch <paramref name="stretch"/>: n(n+1)/2 stretch lengths.</summary>
        public static int RunsAfter(int stretch, NoGrowthOptions options) => stretch * (stretch + 1) / 2 * options.Iterations;

        public void Sample(int runs)
        {
            HeapSnapshot snapshot = HeapSnapshot.Take(new HeapSnapshotOptions { DumpDirectory = options.DumpDirectory });
            if (_samples.Count > 1)
            {
                _samples[^1].Snapshot!.Dispose();
            }

            _samples.Add(new HeapGrowthSample(runs, snapshot));
        }

        public void Judge()
        {
            var analysis = new HeapGrowthOptions { MaxPathTypes = options.MaxPaths, WorkUnit = "run", DecayTolerance = DecayTolerance };
            HeapGrowthReport report = HeapGrowthAnalyzer.Analyze(_samples, analysis);
            if (report.HasGrowth)
            {
                throw Failure(report, options);
            }
        }

        public void Dispose()
        {
            foreach (HeapGrowthSample sample in _samples)
            {
                sample.Snapshot?.Dispose();
            }
        }

        private static LeakException Failure(HeapGrowthReport report, NoGrowthOptions options)
        {
            CultureInfo culture = CultureInfo.InvariantCulture;
            int total = RunsAfter(options.Stretches, options);
            string stretches = string.Join(", ", Enumerable.Range(1, options.Stretches).Select(k => (k * options.Iterations).ToString("#,0", culture)));
            var message = new StringBuilder();
            message.Append(culture, $"The heap grew with the runs: {report.Growing.Count} type{(report.Growing.Count == 1 ? string.Empty : "s")} gained instances in proportion to the runs over {options.Stretches} stretch{(options.Stretches == 1 ? string.Empty : "es")} of {stretches} runs ({total:#,0} runs after {options.WarmupIterations:#,0} warm-up runs; instances at each snapshot in parentheses):");
            foreach (HeapTypeGrowth type in report.Growing.Take(10))
            {
                message.Append(culture, $"\n  {type.CountPerWork:+0.###} instance{(type.CountPerWork == 1 ? string.Empty : "s")} and {type.BytesPerWork:+#,0.#;-#,0.#;0} B per run ({type.CountRise:+#,0} instances, {type.BytesRise:+#,0;-#,0;0} B in all): {type.TypeName} ({string.Join(" -> ", type.Counts.Select(c => c.ToString("#,0", culture)))})");
            }

            if (report.Growing.Count > 10)
            {
                message.Append(culture, $"\n  ({report.Growing.Count - 10} more types)");
            }

            var paths = new List<RetentionPath>();
            foreach (HeapTypeGrowth type in report.Growing.Where(t => t.NewInstancePath is not null))
            {
                paths.Add(type.NewInstancePath!);
                message.Append(culture, $"\nRetention path of a new {type.TypeName}:\n  ")
                    .Append(type.NewInstancePath!.ToString().Replace("\n", "\n  ", StringComparison.Ordinal));
            }

            if (paths.Count == 0 && options.MaxPaths > 0)
            {
                message.Append("\nNo path from the roots ClrMD could inspect reaches the new instances: they are most likely held by a local variable the stack walk did not report.");
            }

            if (report.InspectionNotes.Count > 0)
            {
                message.Append("\nNot fully inspected:");
                foreach (string note in report.InspectionNotes)
                {
                    message.Append("\n  - ").Append(note);
                }
            }

            HeapTypeGrowth top = report.Growing[0];
            return new LeakException(message.ToString(), top.TypeName, (int)Math.Min(int.MaxValue, top.CountRise), paths, paths.Count == 0 ? "no path from an inspected root" : null, report.InspectionNotes, null)
            {
                Growth = report,
            };
        }
    }
}
