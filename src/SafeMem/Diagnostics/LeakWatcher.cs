using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Diagnostics;

/// <summary>
/// Finds the leaks nobody suspected, in a running process: objects declared finished (<see cref="Watch"/>: disposed,
/// closed, their request or scope over) that are still alive several full garbage collections later. Each is reported
/// once (<see cref="Retained"/>); <see cref="AnalyzeAsync"/> then says what holds them, grouped into one report per
/// distinct leak. The .NET counterpart of LeakCanary's <c>ObjectWatcher</c>, made to be left on in production.
/// </summary>
/// <remarks>
/// <para>
/// <b>How:</b> <see cref="Watch"/> takes a weak GC handle to the object and stamps it with the number of garbage
/// collections started so far. The watcher never induces a collection (unless
/// <see cref="LeakWatcherOptions.InducedCollectionInterval"/> asks it to, for development): after each full collection
/// the runtime makes anyway, a callback from the finalizer thread reads which full collections have completed and, on
/// the thread pool, judges the objects watched at least <see cref="LeakWatcherOptions.RetainedAfterCollections"/>
/// completed full collections ago: an object that is gone counts as <see cref="LeakWatcherStatistics.Collected"/>; one
/// still alive is <b>retained</b>. Records are kept in watch order, so a collection only looks at the records that
/// became due: 100,000 pending objects cost it nothing until they are due.
/// </para>
/// <para>
/// <b>Held weakly:</b> every watched object, pending or retained (a weak GC handle each; the watcher never extends an
/// object's life). <b>Held strongly:</b> each pending object's type and description, until it is judged; for each
/// retained object kept for analysis (at most <see cref="LeakWatcherOptions.MaximumRetained"/>), its type and
/// description. Nothing long-lived holds the watcher: the collection callback, the telemetry registration and the
/// induced-collection timer reach it weakly, so a watcher dropped without <see cref="Dispose"/> is collected and its
/// handles are freed.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. <see cref="Watch"/> takes one of several striped locks
/// (chosen by the object's identity hash) for a few instructions. <see cref="Retained"/> and
/// <see cref="AnalysisCompleted"/> are raised on a thread-pool thread; a handler that throws is counted
/// (<see cref="LeakWatcherStatistics.Failures"/>) and does not stop the other handlers or the watcher.
/// </para>
/// <para>
/// <b>Disposal:</b> <see cref="Dispose"/> stops watching, frees every handle, ends the telemetry registration and cancels
/// a running analysis (whose task then ends with <see cref="ObjectDisposedException"/>; <see cref="Dispose"/> does not
/// wait for it). Afterwards <see cref="Watch"/> and <see cref="AnalyzeAsync"/> throw <see cref="ObjectDisposedException"/>;
/// <see cref="GetStatistics"/> still answers.
/// </para>
/// <para>
/// <b>Limits, honestly:</b> judging waits for full collections, which a quiet process may run rarely (minutes apart); an
/// object kept alive only by a local variable of a method still running is retained until that method returns; an
/// object the program legitimately keeps after its end (a pooled or cached instance) is reported, so watch only what
/// should die. Explaining needs the <c>SafeMem.Diagnostics.Heap</c> package and a dump of the process (see
/// <see cref="AnalyzeAsync"/>).
/// </para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Pending = {PendingHint}")]
public sealed partial class LeakWatcher : IDisposable
{
    private readonly WatchTable _table;
    private readonly FullCollectionClock _clock = new();
    private readonly int _retainedAfterCollections;
    private readonly int _maximumRetained;
    private readonly string? _dumpDirectory;
    private readonly bool _automaticAnalysis;
    private readonly int _analysisThreshold;
    private readonly TimeSpan _minimumAnalysisInterval;
    private readonly IDisposable _telemetry;
    private readonly Timer? _inducer;
    private readonly CancellationTokenSource _disposing = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _retainedByType = new(StringComparer.Ordinal);
    private readonly Func<ILeakExplainer?> _findExplainer;
    private ILeakExplainer? _explainer;
    private long _collectedAfterRetention;
    private long _retainedBeyondLimit;
    private long _failures;
    private long _analyses;
    private int _sweepScheduled;
    private int _disposed;

    /// <summary>Creates a watcher with a generated name and the default options.</summary>
    public LeakWatcher()
        : this(null, new LeakWatcherOptions())
    {
    }

    /// <summary>Creates a watcher with the given name and the default options.</summary>
    /// <param name="name">The watcher's name (the <c>safemem.name</c> tag).</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public LeakWatcher(string name)
        : this(RequireName(name), new LeakWatcherOptions())
    {
    }

    /// <summary>Creates a watcher with the given options.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><see cref="LeakWatcherOptions.AutomaticAnalysis"/> is on and no explainer can be found.</exception>
    public LeakWatcher(LeakWatcherOptions options)
        : this(null, options)
    {
    }

    /// <summary>Creates a watcher with the given name and options (the name wins over <see cref="LeakWatcherOptions.Name"/>).</summary>
    /// <param name="name">The watcher's name, or <see langword="null"/> to use the options' name.</param>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    /// <exception cref="InvalidOperationException"><see cref="LeakWatcherOptions.AutomaticAnalysis"/> is on and no explainer can be found.</exception>
    public LeakWatcher(string? name, LeakWatcherOptions options)
        : this(name, options, fallbackMeterFactory: null)
    {
    }

    /// <summary>
    /// Creates a watcher; <paramref name="fallbackMeterFactory"/> (a container's) is used when the options name none, and
    /// <paramref name="findExplainer"/> (tests: a process without the heap package) replaces the lookup by name.
    /// </summary>
    internal LeakWatcher(string? name, LeakWatcherOptions options, IMeterFactory? fallbackMeterFactory, Func<ILeakExplainer?>? findExplainer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
        }

        Name = InstanceNames.Resolve(name ?? options.Name, "watcher");
        _retainedAfterCollections = options.RetainedAfterCollections;
        _maximumRetained = options.MaximumRetained;
        _dumpDirectory = options.DumpDirectory;
        _automaticAnalysis = options.AutomaticAnalysis;
        _analysisThreshold = options.AnalysisThreshold;
        _minimumAnalysisInterval = options.MinimumAnalysisInterval;
        _explainer = options.Explainer;
        _findExplainer = findExplainer ?? ExplainerDiscovery.Find;
        if (_automaticAnalysis)
        {
            // Fail at startup, not an hour later on the first automatic analysis.
            _ = ResolveExplainer();
        }

        // Enough stripes that threads watching at once rarely meet on one lock; a power of two, for masking.
        int stripes = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount * 4, 8, 64));
        _table = new WatchTable(stripes);
        _clock.Observe();

        // Not kept: the registration ends when this watcher is disposed or collected.
        Meter meter = SafeMemMeter.Resolve(options.MeterFactory ?? fallbackMeterFactory);
        _telemetry = InstrumentRegistry<LeakWatcher>.For(meter, static registry => DefineInstruments(registry)).Register(this, Name);
        GcNotification.Register(this, static watcher => watcher.OnFullCollection());
        if (options.InducedCollectionInterval is { } interval)
        {
            // The timer reaches the watcher weakly and flows no execution context (whose async locals it would keep alive).
            using (ExecutionContext.SuppressFlow())
            {
                _inducer = new Timer(static state => InduceCollection((WeakReference<LeakWatcher>)state!), new WeakReference<LeakWatcher>(this), interval, interval);
            }
        }
    }

    /// <summary>
    /// Raised once for each watched object found retained: still alive after
    /// <see cref="LeakWatcherOptions.RetainedAfterCollections"/> full collections since it was watched. Raised on a
    /// thread-pool thread after the collection that made it due; see the type's remarks.
    /// </summary>
    public event EventHandler<RetainedObject>? Retained;

    /// <summary>Raised with the result of each automatic analysis (<see cref="LeakWatcherOptions.AutomaticAnalysis"/>), on a thread-pool thread.</summary>
    public event EventHandler<LeakAnalysis>? AnalysisCompleted;

    /// <summary>Gets the watcher's name (the <c>safemem.name</c> tag, and the watcher named in reports).</summary>
    public string Name { get; }

    /// <summary>Gets how many completed full collections a watched object may survive before it is reported retained.</summary>
    public int RetainedAfterCollections => _retainedAfterCollections;

    /// <summary>Gets the number of pending records without locking (a hint: exact only when no call races), for benchmarks and the induced-collection timer.</summary>
    internal long PendingCount => _table.Stripes.Sum(static s => (long)s.PendingCount);

    private long PendingHint => PendingCount;

    /// <summary>
    /// Declares that <paramref name="target"/> has reached its end (it was disposed or closed, its request or scope is
    /// over) and should be collected soon: if it is still alive after
    /// <see cref="LeakWatcherOptions.RetainedAfterCollections"/> full collections, it is reported retained.
    /// </summary>
    /// <param name="target">The object; held weakly. Watch only what nothing should keep: not a pooled or cached instance.</param>
    /// <param name="description">What ended, for the report: "scoped service MyApp.Cart of a disposed scope", "closed window 'Orders'". Kept until the object is judged, so keep it short and do not make one per call from large data.</param>
    /// <returns>
    /// <see langword="true"/> if the object is now watched; <see langword="false"/> if it was already watched (pending or
    /// retained): one object has one record, and the first call's description and time stand.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> or <paramref name="description"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="target"/> is a boxed value type: the box is a copy that dies at once whatever happens to the value.</exception>
    /// <exception cref="ObjectDisposedException">The watcher was disposed.</exception>
    public bool Watch(object target, string description)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(description);
        Type type = target.GetType();
        if (type.IsValueType)
        {
            ThrowBoxedValueType(type);
        }

        int hash = WatchStripe.Mix(RuntimeHelpers.GetHashCode(target));
        WatchStripe stripe = _table.StripeOf(hash);

        // Allocated before the lock so the lock is held for a few instructions only; freed again for a duplicate.
        nint handle = GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak));
        long stamp = FullCollectionClock.Now();

        // Milliseconds are enough for an age in a report, and the tick count costs a fraction of a high-resolution timestamp.
        long now = Environment.TickCount64;
        bool disposed;
        lock (stripe.Gate)
        {
            disposed = stripe.Disposed;
            if (!disposed && stripe.TryAdd(handle, hash, target, stamp, now, type, description))
            {
                return true;
            }
        }

        GCHandle.FromIntPtr(handle).Free();
        if (disposed)
        {
            ThrowDisposed();
        }

        return false;
    }

    /// <summary>Tells whether <paramref name="target"/> is watched: pending, or retained and kept for analysis.</summary>
    /// <param name="target">The object.</param>
    /// <returns><see langword="true"/> if a <see cref="Watch"/> call recorded it and it has not been collected since.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is null.</exception>
    public bool IsWatched(object target)
    {
        ArgumentNullException.ThrowIfNull(target);
        int hash = WatchStripe.Mix(RuntimeHelpers.GetHashCode(target));
        WatchStripe stripe = _table.StripeOf(hash);
        lock (stripe.Gate)
        {
            return stripe.Contains(hash, target);
        }
    }

    /// <summary>Returns a snapshot of the watcher's figures.</summary>
    /// <returns>The figures; see <see cref="LeakWatcherStatistics"/>.</returns>
    public LeakWatcherStatistics GetStatistics()
    {
        Totals totals = ReadTotals();
        long alive;
        lock (_table.RetainedGate)
        {
            alive = _table.Retained.Count;
        }

        return new LeakWatcherStatistics
        {
            Name = Name,
            Watched = totals.Watched,
            Collected = totals.Collected,
            Retained = totals.Retained,
            Pending = totals.Pending,
            DuplicateWatches = totals.Duplicates,
            RetainedAlive = alive,
            CollectedAfterRetention = Volatile.Read(ref _collectedAfterRetention),
            RetainedBeyondLimit = Volatile.Read(ref _retainedBeyondLimit),
            RetainedByType = _retainedByType.ToDictionary(static p => p.Key, static p => Volatile.Read(ref p.Value.Value), StringComparer.Ordinal),
            Failures = Volatile.Read(ref _failures),
            Analyses = Volatile.Read(ref _analyses),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => GetStatistics().ToString();

    /// <summary>Stops watching and frees every handle; see the type's remarks. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _disposing.Cancel();
        _telemetry.Dispose();
        _inducer?.Dispose();
        _table.Release();
    }

    [DoesNotReturn]
    private static void ThrowBoxedValueType(Type type) =>
        throw new ArgumentException(
            $"A boxed {type} cannot be watched: the box is a copy made for the call, which dies at once whatever happens to the value. Watch the object that owns the value.",
            "target");

    private static string? RequireName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name;
    }

    private static void InduceCollection(WeakReference<LeakWatcher> reference)
    {
        if (reference.TryGetTarget(out LeakWatcher? watcher) && !watcher.IsDisposed && watcher.PendingHint > 0)
        {
            GC.Collect();
        }
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    [DoesNotReturn]
    private void ThrowDisposed() => throw new ObjectDisposedException(nameof(LeakWatcher), $"Leak watcher '{Name}' was disposed.");

    private Totals ReadTotals()
    {
        // Each stripe is read under its lock, so its parts add up exactly; so do their sums.
        var totals = default(Totals);
        foreach (WatchStripe stripe in _table.Stripes)
        {
            lock (stripe.Gate)
            {
                totals.Watched += stripe.Watched;
                totals.Collected += stripe.Collected;
                totals.Retained += stripe.Retained;
                totals.Pending += stripe.PendingCount;
                totals.Duplicates += stripe.Duplicates;
            }
        }

        return totals;
    }

    private struct Totals
    {
        public long Watched;
        public long Collected;
        public long Retained;
        public long Pending;
        public long Duplicates;
    }
}
