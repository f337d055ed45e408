using SafeMem.Disposal;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Pooling;

/// <summary>
/// The figures of one pool, kept apart from the generic pool so one set of instruments (per meter) serves pools of every
/// object type, and so a rented object's leak record can count its leak without keeping the pool alive.
/// </summary>
/// <remarks>
/// Rentals and returns, counted on every get and return, go to per-thread slots (plain stores); the rarer figures to
/// striped counters or interlocked fields. The instrument registry holds this object weakly; the pool and the leak
/// records of its tracked rentals hold it strongly.
/// </remarks>
internal sealed class PoolCounters : ILeakDetail
{
    // First = rentals, Second = returns.
    public readonly PerThreadCounterPair RentalsAndReturns = new();
    public readonly StripedCounter Creations = new();
    public readonly StripedCounter DropsFull = new();
    public readonly StripedCounter DropsRejected = new();
    public long Leaks;
    public long InvalidReturns;

    // Tracked rentals not yet returned or found leaked: while it is 0, a return needs no table lookup.
    public int TrackedOutstanding;

    public PoolCounters(string name) => Name = name;

    public string Name { get; }

    public bool IsLeak => true;

    public static InstrumentRegistry<PoolCounters> Registry(System.Diagnostics.Metrics.Meter meter)
        => InstrumentRegistry<PoolCounters>.For(meter, static registry =>
        {
            registry.CreateObservableCounter(
                InstrumentNames.For("pool", "rentals"),
                InstrumentUnits.Objects,
                "Objects an object pool handed out.",
                static c => c.RentalsAndReturns.First);
            registry.CreateObservableCounter(
                InstrumentNames.For("pool", "returns"),
                InstrumentUnits.Objects,
                "Objects given back to an object pool and accepted (kept or dropped).",
                static c => c.RentalsAndReturns.Second);
            registry.CreateObservableCounter(
                InstrumentNames.For("pool", "creations"),
                InstrumentUnits.Objects,
                "Objects an object pool's policy created because the pool was empty.",
                static c => c.Creations.Sum());
            registry.CreateObservableCounter(
                InstrumentNames.For("pool", "drops"),
                InstrumentUnits.Objects,
                "Returned objects an object pool let go of (and disposed, if disposable), by reason: the pool was full, or its policy rejected them.",
                new InstrumentRegistry<PoolCounters>.Reading(static c => c.DropsFull.Sum(), new(SafeMemTags.PoolDropReason, "full")),
                new InstrumentRegistry<PoolCounters>.Reading(static c => c.DropsRejected.Sum(), new(SafeMemTags.PoolDropReason, "rejected")));
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("pool", "outstanding.count"),
                InstrumentUnits.Objects,
                "Objects rented from an object pool and neither returned nor found leaked.",
                static c => c.Outstanding());
            registry.CreateObservableCounter(
                InstrumentNames.For("pool", "leaks"),
                InstrumentUnits.Objects,
                "Tracked rentals found unreachable without having been returned to the object pool.",
                static c => Volatile.Read(ref c.Leaks));
            registry.CreateObservableCounter(
                InstrumentNames.For("pool", "invalid_returns"),
                InstrumentUnits.Objects,
                "Returns an object pool refused: a second return of one rental, or an object not rented from it.",
                static c => Volatile.Read(ref c.InvalidReturns));
        });

    public long Outstanding()
    {
        // Returns and leaks first, rentals last: a racing rental can only make the figure larger, never negative.
        long leaks = Volatile.Read(ref Leaks);
        long returns = RentalsAndReturns.Second;
        return Math.Max(0, RentalsAndReturns.First - returns - leaks);
    }

    public PoolStatistics Snapshot()
    {
        long rejected = DropsRejected.Sum();
        return new PoolStatistics
        {
            Name = Name,
            Rentals = RentalsAndReturns.First,
            Returns = RentalsAndReturns.Second,
            Creations = Creations.Sum(),
            Drops = DropsFull.Sum() + rejected,
            PolicyRejections = rejected,
            OutstandingCount = Outstanding(),
            Leaks = Volatile.Read(ref Leaks),
            InvalidReturns = Volatile.Read(ref InvalidReturns),
        };
    }

    public string? Describe() => $"rented from object pool '{Name}' and never returned";

    public void OnLeaked()
    {
        Interlocked.Increment(ref Leaks);
        Interlocked.Decrement(ref TrackedOutstanding);
    }
}
