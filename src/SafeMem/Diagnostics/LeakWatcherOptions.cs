using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Diagnostics;

/// <summary>Settings for a <see cref="LeakWatcher"/>.</summary>
/// <remarks>
/// <para>
/// Setters validate their own value; the watcher copies what it needs at construction, so changing the options
/// afterwards does not affect a watcher already built, and the watcher does not keep the options object (it keeps the
/// <see cref="Explainer"/> and <see cref="MeterFactory"/> they name). Not thread-safe: configure on one thread, then build.
/// </para>
/// <para>
/// Not sealed, unlike SafeMem's other public types, for one reason: <c>SafeMem.Extensions</c> registers a watcher in
/// dependency injection with options of its own (<c>LeakWatcherServiceOptions</c>, which adds what the container
/// needs), and a derived class lets one <c>configure</c> delegate set both. Nothing here is virtual.
/// </para>
/// </remarks>
public class LeakWatcherOptions
{
    /// <summary>The largest value <see cref="RetainedAfterCollections"/> accepts.</summary>
    public const int MaximumRetainedAfterCollections = FullCollectionClock.Capacity;

    private static readonly TimeSpan s_minimumInducedInterval = TimeSpan.FromMilliseconds(100);

    private string? _name;
    private int _retainedAfterCollections = 2;
    private int _maximumRetained = 1_000;
    private TimeSpan? _inducedCollectionInterval;
    private int _analysisThreshold = 5;
    private TimeSpan _minimumAnalysisInterval = TimeSpan.FromHours(1);
    private string? _dumpDirectory;

    /// <summary>Gets or sets the watcher's name: the <c>safemem.name</c> tag of its measurements and the watcher named in its reports.</summary>
    /// <value>
    /// <see langword="null"/> (the default) for a generated unique name (<c>watcher-1</c>, <c>watcher-2</c>, ...);
    /// otherwise not empty or white space.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>
    /// Gets or sets how many full (generation 2) garbage collections, completed after an object's
    /// <see cref="LeakWatcher.Watch"/> call, the object may survive before it is reported retained.
    /// </summary>
    /// <value>
    /// From 1 to <see cref="MaximumRetainedAfterCollections"/>; defaults to 2, as LeakCanary's five-second wait plus a
    /// collection: one collection can miss an object that its last user dropped a moment after the <c>Watch</c> call
    /// (a local still on a stack, a finalizer not yet run), two rarely do.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or greater than <see cref="MaximumRetainedAfterCollections"/>.</exception>
    public int RetainedAfterCollections
    {
        get => _retainedAfterCollections;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaximumRetainedAfterCollections);
            _retainedAfterCollections = value;
        }
    }

    /// <summary>
    /// Gets or sets how many retained objects the watcher keeps (weakly) so that <see cref="LeakWatcher.AnalyzeAsync"/>
    /// can explain them.
    /// </summary>
    /// <value>
    /// At least 1; defaults to 1,000. Past it, further retained objects are still reported and counted
    /// (<see cref="LeakWatcherStatistics.RetainedBeyondLimit"/>) but not kept: a leak that retains thousands of objects
    /// of one kind is explained by the first thousand, and the watcher stays bounded (each kept object costs about
    /// 100 bytes and one weak GC handle, checked after every full collection).
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaximumRetained
    {
        get => _maximumRetained;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maximumRetained = value;
        }
    }

    /// <summary>
    /// Gets or sets how often the watcher induces a full garbage collection while objects are waiting to be judged:
    /// for development and tests only.
    /// </summary>
    /// <value>
    /// <see langword="null"/> (the default): the watcher never induces a collection and only observes the ones the
    /// runtime makes anyway, so in production it costs no garbage collection. Otherwise at least 100 ms: while any
    /// watched object is pending, a timer calls <see cref="GC.Collect()"/> at most this often, so a leak is found within
    /// about <see cref="RetainedAfterCollections"/> intervals even in a process that rarely collects.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 100 ms or infinite.</exception>
    public TimeSpan? InducedCollectionInterval
    {
        get => _inducedCollectionInterval;
        set
        {
            if (value is { } interval)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(interval, s_minimumInducedInterval);
                if (interval == Timeout.InfiniteTimeSpan || interval.TotalMilliseconds > uint.MaxValue - 1)
                {
                    throw new ArgumentOutOfRangeException(nameof(value), value, "The induced collection interval must be finite; set null to never induce a collection.");
                }
            }

            _inducedCollectionInterval = value;
        }
    }

    /// <summary>
    /// Gets or sets the explainer that <see cref="LeakWatcher.AnalyzeAsync"/> asks what retains the retained objects.
    /// </summary>
    /// <value>
    /// <see langword="null"/> (the default): the watcher looks for the explainer of the <c>SafeMem.Diagnostics.Heap</c>
    /// package by name the first time it needs one, so referencing that package is all it takes. Set it to use another
    /// explainer, or that package's explicitly (e.g. where trimming removed what the lookup needs).
    /// </value>
    public ILeakExplainer? Explainer { get; set; }

    /// <summary>Gets or sets the directory the explainer writes its temporary heap dump to.</summary>
    /// <value>
    /// <see langword="null"/> (the default) for the system's temporary directory; otherwise not empty or white space.
    /// The dump is about as large as the process's memory and is deleted before the analysis returns.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? DumpDirectory
    {
        get => _dumpDirectory;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value);
            }

            _dumpDirectory = value;
        }
    }

    /// <summary>Gets or sets a value indicating whether the watcher analyzes on its own once enough objects are retained.</summary>
    /// <value>
    /// <see langword="false"/> by default: an analysis dumps the process (a pause of seconds and a temporary file as
    /// large as the process's memory; see docs/leak-watcher.md), so only the application decides to take that cost.
    /// When <see langword="true"/>, after a full collection leaves at least <see cref="AnalysisThreshold"/> retained
    /// objects, and at most once per <see cref="MinimumAnalysisInterval"/>, the watcher runs
    /// <see cref="LeakWatcher.AnalyzeAsync"/> on the thread pool and raises <see cref="LeakWatcher.AnalysisCompleted"/>.
    /// The watcher's constructor then fails if no explainer can be found.
    /// </value>
    public bool AutomaticAnalysis { get; set; }

    /// <summary>Gets or sets how many objects must be retained (and alive) before an automatic analysis runs.</summary>
    /// <value>At least 1; defaults to 5, as LeakCanary's threshold while the app is visible.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int AnalysisThreshold
    {
        get => _analysisThreshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _analysisThreshold = value;
        }
    }

    /// <summary>Gets or sets the least time between the starts of two automatic analyses.</summary>
    /// <value>Zero or more; defaults to one hour.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan MinimumAnalysisInterval
    {
        get => _minimumAnalysisInterval;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _minimumAnalysisInterval = value;
        }
    }

    /// <summary>Gets or sets the factory of the meter the instruments are created on.</summary>
    /// <value>Defaults to <see langword="null"/>: the process-wide <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }
}
