using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
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

    public readonly StripedCounter Open = new();
    public readonly StripedCounter Disposals = new();
    public readonly StripedCounter Failures = new();

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
        ScopeCount = Open.Sum(),
        Disposals = Disposals.Sum(),
        Failures = Failures.Sum(),
    };

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
            static g => g.Open.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For("scope", "disposals"),
            InstrumentUnits.Items,
            "Items (disposables and callbacks) disposal scopes disposed or ran, including those that threw.",
            static g => g.Disposals.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For("scope", "failures"),
            InstrumentUnits.Failures,
            "Items whose disposal or callback threw while a disposal scope ended.",
            static g => g.Failures.Sum());
    }
}
