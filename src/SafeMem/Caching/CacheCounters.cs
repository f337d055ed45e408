using SafeMem.Telemetry;

namespace SafeMem.Caching;

/// <summary>
/// The figures of one cache, kept apart from the generic cache so one set of instruments (per meter) serves caches of
/// every key and value type. The instrument registry holds this object weakly; the cache holds it strongly.
/// </summary>
/// <remarks>
/// Hits are counted by the recency clock that stamps them (a plain store in the reading thread's own slot), misses by
/// a striped counter; the rare lookup counted as a hit that then fails is retracted from the hits and counted as a miss. Every other figure changes only under the cache's policy lock; those fields are written there
/// and read with <see cref="Volatile"/> by observers. Removals are counted per <see cref="RemovalReason"/>, and the
/// <c>safemem.cache.removals</c> instrument reports each as one reading tagged with the reason, so the instrument and
/// <see cref="CacheStatistics.RemovalsByReason"/> use one vocabulary.
/// </remarks>
internal sealed class CacheCounters
{
    // Indexed by RemovalReason; written under the policy lock, read with Volatile by observers.
    private static readonly RemovalReason[] s_reasons = Enum.GetValues<RemovalReason>();

    public readonly RecencyClock Clock;
    public readonly StripedCounter Misses = new();
    public readonly long[] Removals = new long[s_reasons.Length];
    public long EntryCount;
    public long Weight;
    public long FactoryCalls;
    public long FactoryFailures;
    public long AdmissionRejections;

    // Lookups the clock counted as hits that then failed (a lease that lost its race with a removal, an IMemoryCache
    // read that found a fired polling token): taken off the hits and counted as misses, so that hits + misses is the
    // number of lookups callers saw. Rare, so one interlocked field rather than a striped counter.
    private long _retractedHits;

    public CacheCounters(int? maximumCount, long? maximumWeight, string weightUnit, EvictionPolicy policy = EvictionPolicy.Lru)
    {
        MaximumCount = maximumCount;
        MaximumWeight = maximumWeight;
        WeightUnit = weightUnit;
        Policy = policy;
        Clock = new RecencyClock(buffersReads: policy == EvictionPolicy.TinyLfu);
    }

    public EvictionPolicy Policy { get; }

    public int? MaximumCount { get; }

    public long? MaximumWeight { get; }

    public string WeightUnit { get; }

    /// <summary>Gets the lookups that found their entry: the clock's count, less the hits retracted since.</summary>
    public long Hits
    {
        get
        {
            // Retractions first: a hit is counted before it is retracted (on one thread, the retraction fences), so a
            // retraction seen here has its hit in the clock's count read after it, and the figure never dips.
            long retracted = Volatile.Read(ref _retractedHits);
            return Clock.Hits - retracted;
        }
    }

    /// <summary>A lookup already counted as a hit by this thread turned out to be a miss: counts it as one.</summary>
    public void RetractHit()
    {
        Interlocked.Increment(ref _retractedHits);
        Misses.Increment();
    }

    /// <summary>
    /// Starts publishing these figures under <paramref name="name"/>; dispose the result to stop. The weight instruments
    /// come from a registry of their own per unit, because an instrument's unit is fixed when it is created: caches
    /// weighing in bytes publish <c>safemem.cache.weight</c> in <c>By</c>, caches counting entries in <c>{entry}</c>.
    /// </summary>
    public IDisposable Register(System.Diagnostics.Metrics.Meter meter, string name)
    {
        // Every measurement of the cache also carries its policy.
        var policyTag = new KeyValuePair<string, object?>(SafeMemTags.CachePolicy, PolicyTagValue(Policy));
        IDisposable figures = InstrumentRegistry<CacheCounters>.For(meter, static registry => DefineInstruments(registry)).Register(this, name, policyTag);
        IDisposable weights = InstrumentRegistry<CacheCounters>.For(meter, WeightUnit, static registry => DefineWeightInstruments(registry)).Register(this, name, policyTag);
        return new Registrations(figures, weights);
    }

    public CacheStatistics Snapshot(string name)
    {
        var removals = new Dictionary<RemovalReason, long>(s_reasons.Length);
        foreach (RemovalReason reason in s_reasons)
        {
            removals.Add(reason, Volatile.Read(ref Removals[(int)reason]));
        }

        return new CacheStatistics
        {
            Name = name,
            Hits = Hits,
            Misses = Misses.Sum(),
            EntryCount = Volatile.Read(ref EntryCount),
            Weight = Volatile.Read(ref Weight),
            WeightUnit = WeightUnit,
            MaximumCount = MaximumCount,
            MaximumWeight = MaximumWeight,
            RemovalsByReason = removals,
            FactoryCalls = Volatile.Read(ref FactoryCalls),
            FactoryFailures = Volatile.Read(ref FactoryFailures),
            Policy = Policy,
            AdmissionRejections = Volatile.Read(ref AdmissionRejections),
        };
    }

    private static void DefineInstruments(InstrumentRegistry<CacheCounters> registry)
    {
        registry.CreateObservableCounter(
            InstrumentNames.For("cache", "requests"),
            InstrumentUnits.Requests,
            "Lookups of a bounded cache, by result (hit or miss).",
            new InstrumentRegistry<CacheCounters>.Reading(static c => c.Hits, new(SafeMemTags.CacheResult, "hit")),
            new InstrumentRegistry<CacheCounters>.Reading(static c => c.Misses.Sum(), new(SafeMemTags.CacheResult, "miss")));
        registry.CreateObservableCounter(
            InstrumentNames.For("cache", "removals"),
            InstrumentUnits.Entries,
            "Entries that left a bounded cache (or writes it did not store), by reason: evicted, expired, rejected, removed, replaced, cleared.",
            Array.ConvertAll(s_reasons, static reason => new InstrumentRegistry<CacheCounters>.Reading(
                RemovalReader(reason),
                new(SafeMemTags.CacheRemovalReason, ReasonTagValue(reason)))));
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("cache", "entry.count"),
            InstrumentUnits.Entries,
            "Entries a bounded cache holds.",
            static c => Volatile.Read(ref c.EntryCount));
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("cache", "entry.limit"),
            InstrumentUnits.Entries,
            "Count bound of a bounded cache (not reported for a cache bounded by weight only).",
            static c => c.MaximumCount ?? InstrumentRegistry<CacheCounters>.NoValue);
        registry.CreateObservableCounter(
            InstrumentNames.For("cache", "factory.calls"),
            InstrumentUnits.Calls,
            "Runs of a bounded cache's GetOrAdd factories.",
            static c => Volatile.Read(ref c.FactoryCalls));
        registry.CreateObservableCounter(
            InstrumentNames.For("cache", "factory.failures"),
            InstrumentUnits.Failures,
            "Factory runs that threw, were cancelled or returned null.",
            static c => Volatile.Read(ref c.FactoryFailures));
        registry.CreateObservableCounter(
            InstrumentNames.For("cache", "admission.rejections"),
            InstrumentUnits.Entries,
            "Entries the TinyLfu policy's frequency filter refused to admit from its window (evicted instead of the main region's victim); always 0 under LRU.",
            static c => Volatile.Read(ref c.AdmissionRejections));
    }

    private static void DefineWeightInstruments(InstrumentRegistry<CacheCounters> registry)
    {
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("cache", "weight"),
            registry.Variant,
            "Total weight of the entries a bounded cache holds, in the unit its options name.",
            static c => Volatile.Read(ref c.Weight));
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("cache", "weight.limit"),
            registry.Variant,
            "Weight bound of a bounded cache (not reported for a cache bounded by count only).",
            static c => c.MaximumWeight ?? InstrumentRegistry<CacheCounters>.NoValue);
    }

    // One delegate per reason, made once when the instruments are defined.
    private static Func<CacheCounters, long> RemovalReader(RemovalReason reason)
        => c => Volatile.Read(ref c.Removals[(int)reason]);

    /// <summary>The tag value of a removal reason: its name in lowercase (<c>evicted</c>, <c>expired</c>, ...).</summary>
    /// <summary>The <c>safemem.cache.policy</c> tag value: the policy's name in lowercase.</summary>
    internal static string PolicyTagValue(EvictionPolicy policy) => policy == EvictionPolicy.TinyLfu ? "tinylfu" : "lru";

    internal static string ReasonTagValue(RemovalReason reason) => reason.ToString().ToLowerInvariant();

    private sealed class Registrations(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
