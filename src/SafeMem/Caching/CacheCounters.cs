using SafeMem.Telemetry;

namespace SafeMem.Caching;

/// <summary>
/// The figures of one cache, kept apart from the generic cache so one set of instruments (per meter) serves caches of
/// every key and value type. The instrument registry holds this object weakly; the cache holds it strongly.
/// </summary>
/// <remarks>
/// Hits are counted by the recency clock that stamps them (a plain store in the reading thread's own slot), misses by
/// a striped counter. Every other figure changes only under the cache's policy lock; those fields are written there
/// and read with <see cref="Volatile"/> by observers.
/// </remarks>
internal sealed class CacheCounters
{
    public readonly RecencyClock Clock;
    public readonly StripedCounter Misses = new();
    public long EntryCount;
    public long Weight;
    public long Evicted;
    public long Expired;
    public long Rejected;
    public long Removed;
    public long FactoryCalls;
    public long FactoryFailures;
    public long AdmissionRejections;

    public CacheCounters(int? maximumCount, long? maximumWeight, EvictionPolicy policy = EvictionPolicy.Lru)
    {
        MaximumCount = maximumCount;
        MaximumWeight = maximumWeight;
        Policy = policy;
        Clock = new RecencyClock(buffersReads: policy == EvictionPolicy.TinyLfu);
    }

    public EvictionPolicy Policy { get; }

    /// <summary>The <c>safemem.cache.policy</c> tag value: the policy's name in lowercase.</summary>
    public static string PolicyTagValue(EvictionPolicy policy) => policy == EvictionPolicy.TinyLfu ? "tinylfu" : "lru";

    public int? MaximumCount { get; }

    public long? MaximumWeight { get; }

    public static InstrumentRegistry<CacheCounters> Registry(System.Diagnostics.Metrics.Meter meter)
        => InstrumentRegistry<CacheCounters>.For(meter, static registry =>
        {
            registry.CreateObservableCounter(
                InstrumentNames.For("cache", "requests"),
                InstrumentUnits.Requests,
                "Lookups of a bounded cache, by result (hit or miss).",
                new InstrumentRegistry<CacheCounters>.Reading(static c => c.Clock.Hits, new(SafeMemTags.CacheResult, "hit")),
                new InstrumentRegistry<CacheCounters>.Reading(static c => c.Misses.Sum(), new(SafeMemTags.CacheResult, "miss")));
            registry.CreateObservableCounter(
                InstrumentNames.For("cache", "evictions"),
                InstrumentUnits.Entries,
                "Entries a bounded cache let go of by its own policy, by reason (evicted, expired, rejected).",
                new InstrumentRegistry<CacheCounters>.Reading(static c => Volatile.Read(ref c.Evicted), new(SafeMemTags.CacheRemovalReason, "evicted")),
                new InstrumentRegistry<CacheCounters>.Reading(static c => Volatile.Read(ref c.Expired), new(SafeMemTags.CacheRemovalReason, "expired")),
                new InstrumentRegistry<CacheCounters>.Reading(static c => Volatile.Read(ref c.Rejected), new(SafeMemTags.CacheRemovalReason, "rejected")));
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("cache", "entry.count"),
                InstrumentUnits.Entries,
                "Entries a bounded cache holds.",
                static c => Volatile.Read(ref c.EntryCount));
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("cache", "weight"),
                InstrumentUnits.WeightUnits,
                "Total weight of the entries a bounded cache holds.",
                static c => Volatile.Read(ref c.Weight));
            registry.CreateObservableUpDownCounter(
                InstrumentNames.For("cache", "weight.limit"),
                InstrumentUnits.WeightUnits,
                "Weight bound of a bounded cache (not reported for a cache bounded by count only).",
                static c => c.MaximumWeight ?? InstrumentRegistry<CacheCounters>.NoValue);
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
        });

    /// <summary>Registers a cache's counters, tagged with its name and its policy.</summary>
    public IDisposable Register(System.Diagnostics.Metrics.Meter meter, string name)
        => Registry(meter).Register(this, name, new KeyValuePair<string, object?>(SafeMemTags.CachePolicy, PolicyTagValue(Policy)));

    public CacheStatistics Snapshot(string name) => new()
    {
        Name = name,
        Hits = Clock.Hits,
        Misses = Misses.Sum(),
        EntryCount = Volatile.Read(ref EntryCount),
        Weight = Volatile.Read(ref Weight),
        MaximumCount = MaximumCount,
        MaximumWeight = MaximumWeight,
        Evictions = Volatile.Read(ref Evicted),
        Expirations = Volatile.Read(ref Expired),
        Rejections = Volatile.Read(ref Rejected),
        Removals = Volatile.Read(ref Removed),
        FactoryCalls = Volatile.Read(ref FactoryCalls),
        FactoryFailures = Volatile.Read(ref FactoryFailures),
        Policy = Policy,
        AdmissionRejections = Volatile.Read(ref AdmissionRejections),
    };
}
