using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using SafeMem.Caching;
using SafeMem.Telemetry;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// Options for <see cref="BoundedMemoryCache"/>: its bounds, the weight of entries that set no size, its clock and
/// its telemetry. Implements <see cref="IOptions{TOptions}"/> (as <c>MemoryCacheOptions</c> does), so an instance can
/// be passed to the cache directly or configured through the options pattern.
/// </summary>
/// <remarks>
/// At least one of <see cref="MaximumCount"/> and <see cref="MaximumWeight"/> must be set; both may be, and both then
/// hold. Setters reject values that can never be valid; the cache validates the whole again when it is built.
/// The cache copies what it needs when it is built, so later changes to this instance do not affect it. The options
/// hold their <see cref="TimeProvider"/> and <see cref="MeterFactory"/> strongly and own nothing (there is nothing to
/// dispose). They are not safe for concurrent mutation: configure them on one thread, then share them.
/// </remarks>
public sealed class BoundedMemoryCacheOptions : IOptions<BoundedMemoryCacheOptions>
{
    private string? _name;
    private string? _weightUnit;
    private int? _maximumCount;
    private long? _maximumWeight;
    private long _defaultEntryWeight = 1;
    private TimeProvider _timeProvider = TimeProvider.System;
    private EvictionPolicy _evictionPolicy;

    /// <summary>Gets or sets the cache's name: the <c>safemem.name</c> tag of its measurements.</summary>
    /// <value>
    /// Not empty or white space, or <see langword="null"/> (the default) for a generated unique name (<c>cache-1</c>,
    /// <c>cache-2</c>, ...), so two unnamed caches never report as one series.
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Name
    {
        get => _name;
        set => _name = InstanceNames.CheckOption(value);
    }

    /// <summary>
    /// Gets or sets the unit entry sizes count in, reported as the unit of the <c>safemem.cache.weight</c> instruments:
    /// <c>By</c> when sizes are bytes (as <c>HybridCache</c> sets them), or an annotation such as <c>{row}</c>.
    /// </summary>
    /// <value>A UCUM unit, or <see langword="null"/> (the default) for <c>{weight}</c>.</value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? WeightUnit
    {
        get => _weightUnit;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(WeightUnit));
            }

            _weightUnit = value;
        }
    }

    /// <summary>Gets or sets the most entries the cache holds.</summary>
    /// <value>Greater than zero, or <see langword="null"/> (the default) for no count bound.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int? MaximumCount
    {
        get => _maximumCount;
        set
        {
            if (value is { } count && count <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(MaximumCount), count, $"{nameof(MaximumCount)} must be greater than zero, or null for no count bound.");
            }

            _maximumCount = value;
        }
    }

    /// <summary>
    /// Gets or sets the most total weight the cache holds: the sum of the entries' <see cref="Microsoft.Extensions.Caching.Memory.ICacheEntry.Size"/>
    /// (or <see cref="DefaultEntryWeight"/> for entries that set none). The counterpart of <c>MemoryCacheOptions.SizeLimit</c>:
    /// without it, sizes are accepted and ignored (entries weigh nothing), as <c>MemoryCache</c> ignores them without a <c>SizeLimit</c>.
    /// </summary>
    /// <value>Greater than zero, or <see langword="null"/> (the default) for no weight bound.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public long? MaximumWeight
    {
        get => _maximumWeight;
        set
        {
            if (value is { } weight && weight <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(MaximumWeight), weight, $"{nameof(MaximumWeight)} must be greater than zero, or null for no weight bound.");
            }

            _maximumWeight = value;
        }
    }

    /// <summary>Gets or sets how the cache chooses the entries it evicts to keep its bounds.</summary>
    /// <value>
    /// <see cref="EvictionPolicy.Lru"/> (the default) or <see cref="EvictionPolicy.TinyLfu"/>, which keeps frequently used
    /// entries against scans and one-time keys (see <see cref="EvictionPolicy"/>).
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined policy.</exception>
    public EvictionPolicy EvictionPolicy
    {
        get => _evictionPolicy;
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Not a defined eviction policy.");
            }

            _evictionPolicy = value;
        }
    }

    /// <summary>
    /// Gets or sets the weight of an entry that sets no <see cref="Microsoft.Extensions.Caching.Memory.ICacheEntry.Size"/>,
    /// so that code written for an unbounded <c>MemoryCache</c> (which sets no sizes) works unchanged under a weight bound.
    /// Used only with <see cref="MaximumWeight"/>.
    /// </summary>
    /// <value>Zero or more; defaults to 1.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long DefaultEntryWeight
    {
        get => _defaultEntryWeight;
        set
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(DefaultEntryWeight), value, $"{nameof(DefaultEntryWeight)} must be zero or more.");
            }

            _defaultEntryWeight = value;
        }
    }

    /// <summary>Gets or sets the clock that absolute, relative and sliding expiration are measured with.</summary>
    /// <value>Defaults to <see cref="TimeProvider.System"/>.</value>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            ArgumentNullException.ThrowIfNull(value, nameof(TimeProvider));
            _timeProvider = value;
        }
    }

    /// <summary>
    /// Gets or sets whether <see cref="BoundedMemoryCache.GetCurrentStatistics"/> returns figures, as
    /// <c>MemoryCacheOptions.TrackStatistics</c> does for <c>MemoryCache</c>: code written against
    /// <see cref="Microsoft.Extensions.Caching.Memory.IMemoryCache"/> may read a <see langword="null"/> there as
    /// "statistics were not asked for". Only that method is affected: the engine counts its hits and misses either way
    /// (as part of each lookup's recency bookkeeping, at no extra cost), and <see cref="BoundedMemoryCache.GetStatistics"/>
    /// and the <c>safemem.cache.*</c> instruments always report.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>, as with <c>MemoryCache</c>: <c>GetCurrentStatistics</c> returns <see langword="null"/>.</value>
    public bool TrackStatistics { get; set; }

    /// <summary>
    /// Gets or sets the factory of the meter the cache publishes its <c>safemem.cache.*</c> instruments on.
    /// <see cref="Microsoft.Extensions.DependencyInjection.SafeMemServiceCollectionExtensions.AddSafeMemCache"/> sets it to the container's factory when
    /// one is registered and this is left null.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the shared <c>SafeMem</c> meter.</value>
    public IMeterFactory? MeterFactory { get; set; }

    /// <inheritdoc/>
    BoundedMemoryCacheOptions IOptions<BoundedMemoryCacheOptions>.Value => this;

    /// <summary>Throws when the options as a whole cannot build a cache (no bound set).</summary>
    internal void Validate()
    {
        if (FindProblem() is { } problem)
        {
            throw new ArgumentException(problem, "options");
        }
    }

    /// <summary>Describes why the options as a whole cannot build a cache, or returns null (shared with the DI validator).</summary>
    internal string? FindProblem()
        => _maximumCount is null && _maximumWeight is null
            ? $"A bounded cache needs a bound: set {nameof(MaximumCount)}, {nameof(MaximumWeight)} or both."
            : null;
}
