using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text;
using SafeMem.Diagnostics;
using SafeMem.Telemetry;

namespace SafeMem.Disposal;

/// <summary>
/// Finds objects that become unreachable without being disposed, reports each one once (with its type, its age and,
/// when asked, the stack that created it), and counts them: the "created here, never disposed" report that .NET itself
/// does not give.
/// </summary>
/// <remarks>
/// <para>
/// <b>How:</b> <see cref="Track"/> attaches a small record to the object with a
/// <see cref="ConditionalWeakTable{TKey, TValue}"/>, so the record lives exactly as long as the object. The record,
/// not the user's type, has a finalizer: when the garbage collector finds the object unreachable, the record is
/// finalized with it, and if the object's <see cref="LeakHandle"/> was not disposed by then, that is a leak. Disposing
/// the handle suppresses the record's finalizer, so properly disposed objects cost the finalizer thread nothing and
/// are never reported. Sampling (<see cref="LeakTrackerOptions.SamplingRate"/>) tracks a random share of calls, so
/// production can afford it; the design follows Netty's <c>ResourceLeakDetector</c> (sampling, a creation record,
/// each leak reported once) and works for any type.
/// </para>
/// <para>
/// <b>Held weakly:</b> every tracked object (the tracker never extends an object's life). <b>Held strongly:</b> by
/// each open record, this tracker (a record must be able to report), so a tracker lives at least as long as the
/// objects it tracks and has not seen disposed; a closed record lets go of it (and of its creation stack), so a
/// disposed object that lives on does not keep the tracker alive; by the tracker, nothing but its counters and the leak
/// count per type.
/// </para>
/// <para>
/// <b>Limits, honestly:</b> a leak is found only after a garbage collection has found the object unreachable and the
/// finalizer thread has run; an object that stays reachable (a forgotten list still holds it) is not a leak to the
/// tracker. .NET runs no finalizers when the process exits, so objects leaked just before exit are never reported.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. <see cref="LeakDetected"/> is raised on a thread-pool
/// thread, never on the finalizer thread; a handler that throws is counted (<see cref="LeakTrackerStatistics.Failures"/>)
/// and does not stop the other handlers.
/// </para>
/// <para>
/// <b>Disposal:</b> the type is not <see cref="IDisposable"/>: it holds no resources, and its telemetry registration
/// ends when it is collected. A typical instance is a <c>static readonly</c> field.
/// </para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, SamplingRate = {SamplingRate}")]
public sealed class LeakTracker
{
    private static readonly string[] s_ownFrames = ["   at SafeMem.Disposal.", "   at SafeMem.Pooling.", "   at SafeMem.Internal."];

    private readonly ConditionalWeakTable<object, LeakSentinel> _records = new();
    private readonly Sampler _sampler;
    private readonly StripedCounter _additions = new();
    private readonly StripedCounter _disposals = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _leaksByType = new(StringComparer.Ordinal);
    private readonly LeakWatcher? _watcher;
    private readonly string? _watchDescription;
    private long _leaks;
    private long _failures;

    /// <summary>Creates a tracker with a generated name that tracks every object, without stacks.</summary>
    public LeakTracker()
        : this(null, new LeakTrackerOptions())
    {
    }

    /// <summary>Creates a tracker with the given name that tracks every object, without stacks.</summary>
    /// <param name="name">The tracker's name (the <c>safemem.name</c> tag).</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public LeakTracker(string name)
        : this(RequireName(name), new LeakTrackerOptions())
    {
    }

    /// <summary>Creates a tracker with the given options.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public LeakTracker(LeakTrackerOptions options)
        : this(null, options)
    {
    }

    /// <summary>Creates a tracker with the given name and options (the name wins over <see cref="LeakTrackerOptions.Name"/>).</summary>
    /// <param name="name">The tracker's name, or <see langword="null"/> to use the options' name.</param>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    public LeakTracker(string? name, LeakTrackerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
        }

        Name = InstanceNames.Resolve(name ?? options.Name, "tracker");
        SamplingRate = options.SamplingRate;
        CaptureStackTrace = options.CaptureStackTrace;
        _sampler = new Sampler(options.SamplingRate);
        _watcher = options.LeakWatcher;
        _watchDescription = _watcher is null ? null : $"disposed, tracked by leak tracker '{Name}'";
        Meter meter = SafeMemMeter.Resolve(options.MeterFactory);
        // Not kept: the registration ends when this tracker is collected.
        _ = InstrumentRegistry<LeakTracker>.For(meter, static registry => DefineInstruments(registry)).Register(this, Name);
    }

    /// <summary>
    /// Raised once for each tracked object found unreachable without its handle disposed. Raised on a thread-pool
    /// thread, after the garbage collection (and finalization) that found the object; see the type's remarks.
    /// </summary>
    public event EventHandler<LeakReport>? LeakDetected;

    /// <summary>Gets the tracker's name (the <c>safemem.name</c> tag, and the tracker named in reports).</summary>
    public string Name { get; }

    /// <summary>Gets the share of <see cref="Track"/> calls that track their object (0 to 1).</summary>
    public double SamplingRate { get; }

    /// <summary>Gets a value indicating whether tracked objects record the stack that created them.</summary>
    public bool CaptureStackTrace { get; }

    /// <summary>Gets the watcher that tracked objects are handed to when they are disposed (<see cref="LeakTrackerOptions.LeakWatcher"/>), or <see langword="null"/>.</summary>
    public LeakWatcher? LeakWatcher => _watcher;

    internal Sampler Sampler => _sampler;

    internal bool IsSamplingNever => _sampler.IsNever;

    internal bool IsSamplingAlways => _sampler.IsAlways;

    /// <summary>
    /// Starts tracking <paramref name="resource"/> (if the sampler picks this call): unless the returned handle is
    /// disposed before the object becomes unreachable, the object is reported as leaked.
    /// </summary>
    /// <param name="resource">The object to watch; held weakly. Call from its constructor and keep the handle in a field.</param>
    /// <returns>
    /// The handle to dispose from <paramref name="resource"/>'s <c>Dispose</c>; a no-op handle
    /// (<see cref="LeakHandle.IsTracking"/> false) when the call was not sampled.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="resource"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// This tracker already tracks <paramref name="resource"/> under an open handle (checked when this call is sampled;
    /// a closed handle may be followed by a new <c>Track</c> of the same object).
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public LeakHandle Track(object resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return _sampler.Next() ? TrackSampled(resource) : default;
    }

    /// <summary>Tells whether <paramref name="resource"/> is tracked by this tracker under an open handle.</summary>
    /// <param name="resource">The object.</param>
    /// <returns><see langword="true"/> if a <see cref="Track"/> call for it was sampled and its handle is not yet disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="resource"/> is null.</exception>
    public bool IsTracked(object resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return _records.TryGetValue(resource, out LeakSentinel? record) && record.IsOpen;
    }

    /// <summary>Returns a snapshot of the tracker's figures.</summary>
    /// <returns>The figures; see <see cref="LeakTrackerStatistics"/>.</returns>
    public LeakTrackerStatistics GetStatistics()
    {
        // Order: leaks and disposals before additions, so a racing Track can only make the live count larger, never negative.
        long leaks = Volatile.Read(ref _leaks);
        long disposals = _disposals.Sum();
        long additions = _additions.Sum();
        return new LeakTrackerStatistics
        {
            Name = Name,
            Additions = additions,
            Disposals = disposals,
            Leaks = leaks,
            ObjectCount = Math.Max(0, additions - disposals - leaks),
            LeaksByType = _leaksByType.ToDictionary(static p => p.Key, static p => Volatile.Read(ref p.Value.Value), StringComparer.Ordinal),
            Failures = Volatile.Read(ref _failures),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => GetStatistics().ToString();

    /// <summary>
    /// Creates a record for an object that its owner keeps itself (a scope in its own field, a pool in its own table),
    /// bypassing this tracker's table and sampler. <paramref name="detail"/> must not refer to the object.
    /// </summary>
    internal LeakSentinel CreateRecord(Type resourceType, ILeakDetail? detail)
    {
        StackTrace? stack = CaptureStackTrace ? new StackTrace(1, false) : null;
        var record = new LeakSentinel(this, resourceType, stack, detail);
        _additions.Increment();
        return record;
    }

    /// <summary>Samples once, with this tracker's rate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Sample() => _sampler.Next();

    internal void OnClosed() => _disposals.Increment();

    /// <summary>
    /// Hands a disposed tracked object to the watcher. Never throws into the caller's <c>Dispose</c>: a watcher disposed
    /// meanwhile (the application is shutting down) and a boxed value type (which a watcher refuses) are skipped.
    /// </summary>
    internal void HandOff(object resource)
    {
        try
        {
            _watcher?.Watch(resource, _watchDescription!);
        }
        catch (Exception exception) when (exception is ObjectDisposedException or ArgumentException)
        {
        }
    }

    /// <summary>Called on the finalizer thread by a record that was never closed.</summary>
    internal void OnUnreachable(LeakSentinel record)
    {
        if (record.Detail is { IsLeak: false })
        {
            // Not a leak after all (an empty scope): it simply ended, and is counted like a closed object.
            _disposals.Increment();
            return;
        }

        string typeName = TypeNames.Of(record.ResourceType);
        // The count per type is bounded by the number of types the program tracks.
        Interlocked.Increment(ref _leaksByType.GetOrAdd(typeName, static _ => new StrongBox<long>()).Value);
        Interlocked.Increment(ref _leaks);
        record.Detail?.OnLeaked();
        if (LeakDetected is null)
        {
            return;
        }

        var pending = new PendingReport(this, record.ResourceType, record.Age, record.Stack, record.Detail?.Describe());
        // Off the finalizer thread: user handlers may block or take locks, and the finalizer thread must not wait.
        ThreadPool.UnsafeQueueUserWorkItem(static p => p.Tracker.Raise(p), pending, preferLocal: false);
    }

    private static string? RequireName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name;
    }

    private static string FormatStack(StackTrace stack)
    {
        // Leave out SafeMem's own frames (Track and the blocks that call it) so the report starts at the user's code.
        // Text filtering, not StackFrame.GetMethod, which trimming does not guarantee.
        string[] lines = stack.ToString().Split(Environment.NewLine);
        var builder = new StringBuilder();
        bool leading = true;
        foreach (string line in lines)
        {
            if (leading && Array.Exists(s_ownFrames, prefix => line.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            leading = false;
            if (line.Length > 0)
            {
                builder.AppendLine(line);
            }
        }

        return builder.ToString().TrimEnd();
    }

    private static void DefineInstruments(InstrumentRegistry<LeakTracker> registry)
    {
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("tracker", "object.count"),
            InstrumentUnits.Objects,
            "Objects a leak tracker tracks now: tracked, not disposed, not (yet) found leaked.",
            static t => t.ReadObjectCount());
        registry.CreateObservableCounter(
            InstrumentNames.For("tracker", "additions"),
            InstrumentUnits.Objects,
            "Objects a leak tracker started tracking (sampled Track calls).",
            static t => t._additions.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For("tracker", "disposals"),
            InstrumentUnits.Objects,
            "Tracked objects disposed (their handle closed) before they became unreachable.",
            static t => t._disposals.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For("tracker", "leaks"),
            InstrumentUnits.Objects,
            "Tracked objects found unreachable without having been disposed, by resource type.",
            static t => t.ReadLeaksByType());
        registry.CreateObservableCounter(
            InstrumentNames.For("tracker", "failures"),
            InstrumentUnits.Failures,
            "LeakDetected handler calls that threw.",
            static t => Volatile.Read(ref t._failures));
    }

    private long ReadObjectCount()
    {
        long leaks = Volatile.Read(ref _leaks);
        long disposals = _disposals.Sum();
        return Math.Max(0, _additions.Sum() - disposals - leaks);
    }

    private IEnumerable<(long Value, KeyValuePair<string, object?> Tag)> ReadLeaksByType()
    {
        foreach (KeyValuePair<string, StrongBox<long>> pair in _leaksByType)
        {
            yield return (Volatile.Read(ref pair.Value.Value), new KeyValuePair<string, object?>(SafeMemTags.TrackerResourceType, pair.Key));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private LeakHandle TrackSampled(object resource)
    {
        // The check and the attach are one step under the table's lock, so two racing Track calls of one object cannot
        // both attach. A closed record is replaced: the object was disposed and is being tracked afresh (e.g. reused).
        lock (_records)
        {
            if (_records.TryGetValue(resource, out LeakSentinel? existing) && existing.IsOpen)
            {
                throw new InvalidOperationException(
                    $"This {TypeNames.Of(resource.GetType())} is already tracked by leak tracker '{Name}' under an open handle; dispose that handle before tracking the object again.");
            }

            LeakSentinel record = CreateRecord(resource.GetType(), detail: null);
            if (_watcher is not null)
            {
                record.WatchOnClose(resource);
            }

            _records.AddOrUpdate(resource, record);
            return new LeakHandle(record);
        }
    }

    private void Raise(PendingReport pending)
    {
        EventHandler<LeakReport>? handlers = LeakDetected;
        if (handlers is null)
        {
            return;
        }

        var report = new LeakReport(
            pending.ResourceType,
            Name,
            pending.Age,
            pending.Stack is null ? null : FormatStack(pending.Stack),
            pending.Details);
        foreach (Delegate handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<LeakReport>)handler)(this, report);
            }
            catch (Exception)
            {
                // A handler's failure is the handler's bug: counted, and the other handlers still run. Rethrowing on a
                // thread-pool thread would end the process.
                Interlocked.Increment(ref _failures);
            }
        }
    }

    private sealed record PendingReport(LeakTracker Tracker, Type ResourceType, TimeSpan Age, StackTrace? Stack, string? Details);
}
