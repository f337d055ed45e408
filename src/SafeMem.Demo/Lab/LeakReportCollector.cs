using SafeMem.Disposal;

namespace SafeMem.Demo.Lab;

/// <summary>
/// Listens to a <see cref="LeakTracker"/>'s <see cref="LeakTracker.LeakDetected"/> and groups the reports by type,
/// tracker, details and creation stack (<see cref="LeakReportGroup"/>; the stack down to the lab's runner), as a log
/// aggregator would.
/// </summary>
/// <remarks>
/// The tracker raises each report on a thread-pool thread after the finalizer that found the leak, so a report can
/// arrive a moment after the tracker's telemetry counted it: <see cref="Groups"/> waits for the count the telemetry
/// showed. Thread-safe. Bounded by the number of distinct creation stacks, i.e. by the program's code paths.
/// </remarks>
internal sealed class LeakReportCollector
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Type, string Tracker, string? Details, string? Stack), Entry> _groups = [];
    private int _total;

    // The tracker and this collector belong to the same variant and die together: no removal needed.
#pragma warning disable SM1002
    public LeakReportCollector(LeakTracker tracker) => tracker.LeakDetected += OnLeakDetected;
#pragma warning restore SM1002

    /// <summary>The groups, most reports first, once at least <paramref name="expected"/> reports arrived (or after a few seconds).</summary>
    public IReadOnlyList<LeakReportGroup> Groups(double expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Volatile.Read(ref _total) < expected && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        lock (_lock)
        {
            return [.. _groups.Values
                .OrderByDescending(e => e.Count)
                .ThenBy(e => e.First.CreationStackTrace, StringComparer.Ordinal)
                .Select(e => new LeakReportGroup(
                    e.First.ResourceTypeName, e.First.TrackerName, e.Count, e.MinAge.TotalSeconds, e.MaxAge.TotalSeconds, e.First.ToString()))];
        }
    }

    private void OnLeakDetected(object? sender, LeakReport report)
    {
        lock (_lock)
        {
            var key = (report.ResourceTypeName, report.TrackerName, report.Details, ScenarioFrames(report.CreationStackTrace));
            if (_groups.TryGetValue(key, out Entry? entry))
            {
                entry.Count++;
                entry.MinAge = report.Age < entry.MinAge ? report.Age : entry.MinAge;
                entry.MaxAge = report.Age > entry.MaxAge ? report.Age : entry.MaxAge;
            }
            else
            {
                _groups[key] = new Entry(report) { Count = 1, MinAge = report.Age, MaxAge = report.Age };
            }

            _total++;
        }
    }

    /// <summary>The creation stack down to the lab's runner: its frames are the lab's, not the scenario's, so they do not tell leaks apart.</summary>
    private static string? ScenarioFrames(string? stack)
    {
        int runner = stack?.IndexOf(LeakReportGroup.LabFrame, StringComparison.Ordinal) ?? -1;
        return runner < 0 ? stack : stack![..runner];
    }

    private sealed class Entry(LeakReport first)
    {
        public LeakReport First { get; } = first;

        public int Count { get; set; }

        public TimeSpan MinAge { get; set; }

        public TimeSpan MaxAge { get; set; }
    }
}
