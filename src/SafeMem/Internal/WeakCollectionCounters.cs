using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Internal;

/// <summary>
/// Additions, removals and reclamations of one weak collection (an attachment or a registry), and its telemetry.
/// </summary>
/// <typeparam name="TKind">The family, which names the instruments.</typeparam>
/// <remarks>
/// <para>
/// Nothing tells a weak collection when the garbage collector drops one of its entries: the BCL tables clear their
/// dependent handles silently, and a finalizable token per entry would make every addition pay for finalization
/// (and keep the token alive one extra collection). So reclamations are not counted as they happen; they are
/// derived: <c>reclaimed = additions - removals - live</c>, where <c>live</c> is a walk of the collection. That is
/// exact whenever no write is in flight, it costs nothing on the hot paths, and it is as current as the GC itself (no
/// finalizer has to run first).
/// </para>
/// <para>
/// Writers count an addition after the entry becomes visible and a removal before it disappears, and
/// <see cref="Read"/> reads additions, then the live count, then removals. With that order a read racing with
/// writers can only under-estimate reclamations, never over-estimate them; the reported figure is the high-water mark
/// of those under-estimates, so it is monotonic (as a counter must be) and never ahead of the truth.
/// </para>
/// <para>
/// The instrument registry holds this object weakly, so the blocks (which are not <see cref="IDisposable"/>) stop
/// reporting when they are collected.
/// </para>
/// </remarks>
internal sealed class WeakCollectionCounters<TKind>
    where TKind : IWeakCollectionKind
{
    private readonly StripedCounter _additions = new();
    private readonly StripedCounter _removals = new();
    private readonly Func<int> _countLive;
    private long _reclamations;

    public WeakCollectionCounters(Func<int> countLive, string name, IMeterFactory? meterFactory)
    {
        _countLive = countLive;
        Meter meter = SafeMemMeter.Resolve(meterFactory);
        // The registration is not kept: it ends when this object (owned by its block) is collected.
        _ = InstrumentRegistry<WeakCollectionCounters<TKind>>.For(meter, static registry => Define(registry)).Register(this, name);
    }

    public void RecordAddition() => _additions.Increment();

    public void RecordRemoval() => _removals.Increment();

    /// <summary>Reads every figure; O(n) in the collection's size because the live count is a walk.</summary>
    public WeakCollectionFigures Read()
    {
        // Order matters (see remarks): additions first, live count next, removals last.
        long additions = _additions.Sum();
        int live = _countLive();
        long removals = _removals.Sum();
        long derived = additions - removals - live;
        long reclaimed = Volatile.Read(ref _reclamations);
        while (derived > reclaimed)
        {
            // Racing readers publish the larger of their under-estimates; a lost CAS re-reads and retries.
            long seen = Interlocked.CompareExchange(ref _reclamations, derived, reclaimed);
            if (seen == reclaimed)
            {
                reclaimed = derived;
                break;
            }

            reclaimed = seen;
        }

        return new WeakCollectionFigures(live, additions, removals, reclaimed);
    }

    private static void Define(InstrumentRegistry<WeakCollectionCounters<TKind>> registry)
    {
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For(TKind.Block, "entry.count"),
            InstrumentUnits.Entries,
            TKind.CountDescription,
            static counters => counters._countLive());
        registry.CreateObservableCounter(
            InstrumentNames.For(TKind.Block, "additions"),
            InstrumentUnits.Entries,
            TKind.AdditionsDescription,
            static counters => counters._additions.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For(TKind.Block, "removals"),
            InstrumentUnits.Entries,
            TKind.RemovalsDescription,
            static counters => counters._removals.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For(TKind.Block, "reclamations"),
            InstrumentUnits.Entries,
            TKind.ReclamationsDescription,
            static counters => counters.Read().Reclamations);
    }
}
