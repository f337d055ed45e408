namespace SafeMem.Caching;

/// <summary>
/// An immutable snapshot of a <see cref="BoundedCache{TKey, TValue}"/>'s figures: the same ones its instruments publish.
/// </summary>
/// <remarks>
/// Counts are cumulative since the cache was built. Taken while other threads use the cache, the figures are each
/// current but not mutually consistent (e.g. <see cref="Hits"/> and <see cref="EntryCount"/> may be read a moment apart).
/// </remarks>
public sealed class CacheStatistics
{
    /// <summary>Gets the cache's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the number of lookups that found a live entry.</summary>
    public long Hits { get; init; }

    /// <summary>Gets the number of lookups that found no live entry.</summary>
    public long Misses { get; init; }

    /// <summary>Gets the number of lookups (<see cref="Hits"/> + <see cref="Misses"/>).</summary>
    public long Lookups => Hits + Misses;

    /// <summary>Gets the share of lookups that hit, from 0 to 1 (0 when there were none).</summary>
    public double HitRatio => Lookups == 0 ? 0 : (double)Hits / Lookups;

    /// <summary>Gets the number of entries held.</summary>
    public long EntryCount { get; init; }

    /// <summary>Gets the total weight of the entries held.</summary>
    public long Weight { get; init; }

    /// <summary>Gets the unit <see cref="Weight"/> and <see cref="MaximumWeight"/> count in (the <c>safemem.cache.weight</c> instrument's unit).</summary>
    public string WeightUnit { get; init; } = "{entry}";

    /// <summary>Gets the count bound, or <see langword="null"/> when the cache is bounded by weight only.</summary>
    public int? MaximumCount { get; init; }

    /// <summary>Gets the weight bound, or <see langword="null"/> when the cache is bounded by count only.</summary>
    public long? MaximumWeight { get; init; }

    /// <summary>
    /// Gets the number of entries that left the cache (and of writes it did not store), per reason; every reason is
    /// present. The <c>safemem.cache.removals</c> instrument publishes the same figures, tagged with the reason.
    /// </summary>
    public IReadOnlyDictionary<RemovalReason, long> RemovalsByReason { get; init; } = new Dictionary<RemovalReason, long>();

    /// <summary>Gets the number of removals for every reason together (the sum of <see cref="RemovalsByReason"/>).</summary>
    public long Removals => RemovalsByReason.Values.Sum();

    /// <summary>Gets the number of entries the policy evicted to keep a bound (under TinyLfu, refused candidates included) (<see cref="RemovalReason.Evicted"/>).</summary>
    public long Evictions => RemovalsOf(RemovalReason.Evicted);

    /// <summary>Gets the number of entries removed because they expired (<see cref="RemovalReason.Expired"/>).</summary>
    public long Expirations => RemovalsOf(RemovalReason.Expired);

    /// <summary>Gets the number of writes not stored because the entry alone weighed more than the weight bound (<see cref="RemovalReason.Rejected"/>).</summary>
    public long Rejections => RemovalsOf(RemovalReason.Rejected);

    /// <summary>Gets the number of times a <c>GetOrAdd</c> factory was run.</summary>
    public long FactoryCalls { get; init; }

    /// <summary>Gets the number of factory runs that threw, were cancelled or returned null.</summary>
    public long FactoryFailures { get; init; }

    /// <summary>Gets the eviction policy of the cache.</summary>
    public EvictionPolicy Policy { get; init; }

    /// <summary>
    /// Gets the number of entries the TinyLfu policy's frequency filter refused to admit to its main region (they were
    /// evicted, reason <see cref="RemovalReason.Evicted"/>, and are also counted in <see cref="Evictions"/>); 0 under LRU.
    /// </summary>
    public long AdmissionRejections { get; init; }

    private long RemovalsOf(RemovalReason reason) => RemovalsByReason.TryGetValue(reason, out long count) ? count : 0;

    /// <inheritdoc/>
    public override string ToString()
        => $"{Name}: {EntryCount} entries, weight {Weight}, hits {Hits}, misses {Misses}, evictions {Evictions}, expirations {Expirations}, rejections {Rejections}, policy {CacheCounters.PolicyTagValue(Policy)}, admission rejections {AdmissionRejections}";
}
