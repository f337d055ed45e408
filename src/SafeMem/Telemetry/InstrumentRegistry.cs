using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace SafeMem.Telemetry;

/// <summary>
/// The instruments of one kind of block on one <see cref="Meter"/>, and the live block instances they report on.
/// </summary>
/// <typeparam name="TSource">The object the instruments read figures from (a block, or the block's metrics holder).</typeparam>
/// <remarks>
/// <para>
/// Instruments are created once per (meter, block kind), never per instance: a meter cannot forget an instrument,
/// so per-instance instruments on the never-disposed shared meter would themselves leak. Each observable callback
/// walks the registered instances and emits one measurement per instance (and per reading), tagged
/// <see cref="SafeMemTags.Name"/> with the instance's name.
/// </para>
/// <para>
/// The registry holds each instance through a <see cref="WeakReference{T}"/> only, and instrument callbacks reach
/// instances only through the registry. A block dropped without <c>Dispose</c> is therefore still collected while a
/// <see cref="MeterListener"/> listens, and simply stops reporting. Dead and unregistered entries are purged on every
/// observation and, amortized, on registration, so the registry stays proportional to the live instances.
/// </para>
/// <para>Thread-safety: registration, unregistration and observation may run concurrently (one short lock).</para>
/// </remarks>
internal sealed class InstrumentRegistry<TSource>
    where TSource : class
{
    // Registries per meter (one per variant); the table holds them only as long as the meter lives (a factory meter
    // can be collected).
    private static readonly ConditionalWeakTable<Meter, Dictionary<string, InstrumentRegistry<TSource>>> s_registries = new();

    private readonly object _lock = new();
    private readonly List<Registration> _registrations = [];
    private int _purgeThreshold = 16;

    /// <summary>
    /// A reading returns this to publish nothing for an instance (e.g. the count limit of a cache bounded by weight
    /// only), rather than a misleading zero.
    /// </summary>
    public const long NoValue = long.MinValue;

    private InstrumentRegistry(Meter meter, string variant)
    {
        Meter = meter;
        Variant = variant;
    }

    public Meter Meter { get; }

    /// <summary>
    /// Tells apart several sets of instruments of one block kind on one meter, e.g. the weight instruments of caches
    /// whose weights count different units (an instrument's unit is fixed when it is created). Empty by default.
    /// </summary>
    public string Variant { get; }

    /// <summary>Number of registrations currently held, dead or alive (for tests of the purge).</summary>
    internal int RegistrationCount
    {
        get
        {
            lock (_lock)
            {
                return _registrations.Count;
            }
        }
    }

    /// <summary>
    /// Returns the registry for <paramref name="meter"/>, creating it and calling <paramref name="defineInstruments"/>
    /// exactly once per meter. <paramref name="defineInstruments"/> should be static: instruments must not capture
    /// an instance.
    /// </summary>
    public static InstrumentRegistry<TSource> For(Meter meter, Action<InstrumentRegistry<TSource>> defineInstruments)
        => For(meter, string.Empty, defineInstruments);

    /// <summary>
    /// Returns the registry for (<paramref name="meter"/>, <paramref name="variant"/>), creating it and calling
    /// <paramref name="defineInstruments"/> exactly once per pair; the definition reads the variant from
    /// <see cref="Variant"/>.
    /// </summary>
    public static InstrumentRegistry<TSource> For(Meter meter, string variant, Action<InstrumentRegistry<TSource>> defineInstruments)
    {
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(defineInstruments);

        // Blocks are built far less often than they are used, and the number of variants is tiny: one lock suffices.
        lock (s_registries)
        {
            Dictionary<string, InstrumentRegistry<TSource>> variants = s_registries.GetOrCreateValue(meter);
            if (!variants.TryGetValue(variant, out InstrumentRegistry<TSource>? existing))
            {
                existing = new InstrumentRegistry<TSource>(meter, variant);
                defineInstruments(existing);
                variants.Add(variant, existing);
            }

            return existing;
        }
    }

    /// <summary>
    /// Starts reporting on <paramref name="source"/> under <paramref name="name"/>. Dispose the result to stop;
    /// if it is never disposed, reporting stops when <paramref name="source"/> is collected.
    /// </summary>
    public IDisposable Register(TSource source, string name) => Register(source, name, null);

    /// <summary>
    /// Starts reporting on <paramref name="source"/> under <paramref name="name"/>, adding <paramref name="instanceTag"/>
    /// (a constant attribute of the instance, e.g. a cache's policy) to every measurement of it.
    /// </summary>
    public IDisposable Register(TSource source, string name, KeyValuePair<string, object?>? instanceTag)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        var registration = new Registration(this, source, name, instanceTag);
        lock (_lock)
        {
            // Amortized purge: blocks that are created and dropped without Dispose would otherwise accumulate dead
            // entries between observations (and forever when nobody listens).
            if (_registrations.Count >= _purgeThreshold)
            {
                PurgeLocked();
                _purgeThreshold = Math.Max(16, _registrations.Count * 2);
            }

            _registrations.Add(registration);
        }

        return registration;
    }

    /// <summary>Creates an <see cref="ObservableCounter{T}"/> reporting one figure for every live instance.</summary>
    public void CreateObservableCounter(string name, string unit, string description, Func<TSource, long> read)
        => CreateObservableCounter(name, unit, description, new Reading(read));

    /// <summary>Creates an <see cref="ObservableUpDownCounter{T}"/> reporting one figure for every live instance.</summary>
    public void CreateObservableUpDownCounter(string name, string unit, string description, Func<TSource, long> read)
        => CreateObservableUpDownCounter(name, unit, description, new Reading(read));

    /// <summary>Creates an <see cref="ObservableGauge{T}"/> reporting one figure for every live instance.</summary>
    public void CreateObservableGauge(string name, string unit, string description, Func<TSource, long> read)
        => CreateObservableGauge(name, unit, description, new Reading(read));

    /// <summary>Creates an <see cref="ObservableCounter{T}"/> reporting each reading for every live instance.</summary>
    public void CreateObservableCounter(string name, string unit, string description, params Reading[] readings)
    {
        InstrumentNames.Validate(name);
        Meter.CreateObservableCounter(name, () => Observe(readings), unit, description);
    }

    /// <summary>Creates an <see cref="ObservableUpDownCounter{T}"/> reporting each reading for every live instance.</summary>
    public void CreateObservableUpDownCounter(string name, string unit, string description, params Reading[] readings)
    {
        InstrumentNames.Validate(name);
        Meter.CreateObservableUpDownCounter(name, () => Observe(readings), unit, description);
    }

    /// <summary>Creates an <see cref="ObservableGauge{T}"/> reporting each reading for every live instance.</summary>
    public void CreateObservableGauge(string name, string unit, string description, params Reading[] readings)
    {
        InstrumentNames.Validate(name);
        Meter.CreateObservableGauge(name, () => Observe(readings), unit, description);
    }

    /// <summary>
    /// Creates an <see cref="ObservableCounter{T}"/> whose extra tag values are known only at reading time (e.g. one
    /// measurement per leaked resource type): <paramref name="readAll"/> returns, for one instance, each figure with its
    /// extra tag. It must be static and bounded (it decides the series' cardinality).
    /// </summary>
    public void CreateObservableCounter(string name, string unit, string description, Func<TSource, IEnumerable<(long Value, KeyValuePair<string, object?> Tag)>> readAll)
    {
        InstrumentNames.Validate(name);
        ArgumentNullException.ThrowIfNull(readAll);
        Meter.CreateObservableCounter(name, () => ObserveAll(readAll), unit, description);
    }

    private List<Measurement<long>> ObserveAll(Func<TSource, IEnumerable<(long Value, KeyValuePair<string, object?> Tag)>> readAll)
    {
        var measurements = new List<Measurement<long>>();
        foreach ((TSource source, KeyValuePair<string, object?> nameTag) in LiveSources())
        {
            foreach ((long value, KeyValuePair<string, object?> tag) in readAll(source))
            {
                measurements.Add(new Measurement<long>(value, nameTag, tag));
            }
        }

        return measurements;
    }

    private List<(TSource Source, KeyValuePair<string, object?> NameTag)> LiveSources()
    {
        lock (_lock)
        {
            PurgeLocked();
            var live = new List<(TSource, KeyValuePair<string, object?>)>(_registrations.Count);
            foreach (Registration registration in _registrations)
            {
                if (registration.TryGetSource(out TSource? source))
                {
                    live.Add((source, registration.NameTag));
                }
            }

            return live;
        }
    }

    private List<Measurement<long>> Observe(Reading[] readings)
    {
        // Snapshot the live sources under the lock, read them outside it: a reading may take the source's own locks.
        List<(TSource Source, KeyValuePair<string, object?> NameTag, KeyValuePair<string, object?>? InstanceTag)> live;
        lock (_lock)
        {
            PurgeLocked();
            live = new(_registrations.Count);
            foreach (Registration registration in _registrations)
            {
                if (registration.TryGetSource(out TSource? source))
                {
                    live.Add((source, registration.NameTag, registration.InstanceTag));
                }
            }
        }

        var measurements = new List<Measurement<long>>(live.Count * readings.Length);
        foreach ((TSource source, KeyValuePair<string, object?> nameTag, KeyValuePair<string, object?>? instanceTag) in live)
        {
            foreach (Reading reading in readings)
            {
                long value = reading.Read(source);
                if (value == NoValue)
                {
                    continue;
                }

                measurements.Add((reading.Tag, instanceTag) switch
                {
                    ({ } tag, { } instance) => new Measurement<long>(value, nameTag, instance, tag),
                    ({ } tag, null) => new Measurement<long>(value, nameTag, tag),
                    (null, { } instance) => new Measurement<long>(value, nameTag, instance),
                    _ => new Measurement<long>(value, nameTag),
                });
            }
        }

        return measurements;
    }

    private void PurgeLocked() => _registrations.RemoveAll(static r => !r.IsAlive);

    private void Unregister(Registration registration)
    {
        lock (_lock)
        {
            _registrations.Remove(registration);
        }
    }

    /// <summary>One figure an instrument reads from each instance, with an optional extra tag (e.g. result = hit).</summary>
    /// <param name="Read">Reads the figure; must be static so the instrument does not capture an instance.</param>
    /// <param name="Tag">An extra tag for this reading, beside the name tag.</param>
    internal readonly record struct Reading(Func<TSource, long> Read, KeyValuePair<string, object?>? Tag = null);

    private sealed class Registration : IDisposable
    {
        private readonly InstrumentRegistry<TSource> _owner;
        private readonly WeakReference<TSource> _source;
        private volatile bool _disposed;

        public Registration(InstrumentRegistry<TSource> owner, TSource source, string name, KeyValuePair<string, object?>? instanceTag)
        {
            _owner = owner;
            _source = new WeakReference<TSource>(source);
            NameTag = new KeyValuePair<string, object?>(SafeMemTags.Name, name);
            InstanceTag = instanceTag;
        }

        public KeyValuePair<string, object?> NameTag { get; }

        public KeyValuePair<string, object?>? InstanceTag { get; }

        public bool IsAlive => !_disposed && _source.TryGetTarget(out _);

        public bool TryGetSource([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TSource? source)
        {
            source = null;
            return !_disposed && _source.TryGetTarget(out source);
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _owner.Unregister(this);
            }
        }
    }
}
