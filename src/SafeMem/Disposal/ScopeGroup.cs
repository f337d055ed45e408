using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Disposal;

/// <summary>
/// The figures of every <see cref="DisposalScope"/> with one name on one meter: scopes are counted per name, not per
/// instance, because they are created per unit of work and a series per instance would grow without bound.
/// </summary>
/// <remarks>
/// Groups are kept for the meter's life (cumulative counters must not reset when no scope of a name happens to be open),
/// so their number is bounded: past <see cref="MaximumNames"/> names on one meter, further names are counted under
/// <see cref="OverflowName"/>, as OpenTelemetry's cardinality limit does.
/// </remarks>
internal sealed class ScopeGroup
{
    public const int MaximumNames = 1000;
    public const string OverflowName = "_overflow";

    private static readonly ConditionalWeakTable<Meter, ConcurrentDictionary<string, ScopeGroup>> s_tables = new();

    // The group most recently looked up: scopes of one name are usually created over and over (one per request), and
    // this skips the two table lookups for them.
    private static ScopeGroup? s_last;

    // Per-thread plain stores rather than striped interlocked counters: every scope opens and ends once, so these are
    // on the path of each unit of work. First = scopes opened, Second = scopes ended (possibly on another thread).
    public readonly PerThreadCounterPair OpenedAndEnded = new();

    // First = items disposed or run, Second = those that threw.
    public readonly PerThreadCounterPair DisposalsAndFailures = new();

    private ScopeGroup(Meter meter, string name)
    {
        Meter = meter;
        Name = name;
    }

    public Meter Meter { get; }

    public string Name { get; }

    public static ScopeGroup For(IMeterFactory? meterFactory, string name)
    {
        Meter meter = SafeMemMeter.Resolve(meterFactory);
        ScopeGroup? last = Volatile.Read(ref s_last);
        if (last is not null && ReferenceEquals(last.Meter, meter) && string.Equals(last.Name, name, StringComparison.Ordinal))
        {
            return last;
        }

        ConcurrentDictionary<string, ScopeGroup> table = s_tables.GetValue(meter, static _ => new ConcurrentDictionary<string, ScopeGroup>(StringComparer.Ordinal));
        if (!table.TryGetValue(name, out ScopeGroup? group))
        {
            // The bound is checked before adding, so racing adds may pass it by a few: still bounded.
            group = table.Count >= MaximumNames
                ? table.GetOrAdd(OverflowName, static (n, m) => Create(m, n), meter)
                : table.GetOrAdd(name, static (n, m) => Create(m, n), meter);
        }

        Volatile.Write(ref s_last, group);
        return group;
    }

    public DisposalScopeStatistics Snapshot() => new()
    {
        Name = Name,
        ScopeCount = OpenCount(),
        Disposals = DisposalsAndFailures.First,
        Failures = DisposalsAndFailures.Second,
    };

    /// <summary>Scopes opened and not ended.</summary>
    public long OpenCount()
    {
        // Ended first, opened last: a scope's end follows its opening, so a racing pair can only make the figure
        // larger for a moment, never negative.
        long ended = OpenedAndEnded.Second;
        return Math.Max(0, OpenedAndEnded.First - ended);
    }

    private static ScopeGroup Create(Meter meter, string name)
    {
        var group = new ScopeGroup(meter, name);
        // The table holds the group strongly for the meter's life, so the registration need not be kept.
        _ = InstrumentRegistry<ScopeGroup>.For(meter, static registry => DefineInstruments(registry)).Register(group, name);
        return group;
    }

    private static void DefineInstruments(InstrumentRegistry<ScopeGroup> registry)
    {
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("scope", "count"),
            InstrumentUnits.Scopes,
            "Disposal scopes open (created and not disposed); a scope dropped without Dispose stays counted.",
            static g => g.OpenCount());
        registry.CreateObservableCounter(
            InstrumentNames.For("scope", "disposals"),
            InstrumentUnits.Items,
            "Items (disposables and callbacks) disposal scopes disposed or ran, including those that threw.",
            static g => g.DisposalsAndFailures.First);
        registry.CreateObservableCounter(
            InstrumentNames.For("scope", "failures"),
            InstrumentUnits.Failures,
            "Items whose disposal or callback threw while a disposal scope ended.",
            static g => g.DisposalsAndFailures.Second);
    }
}
