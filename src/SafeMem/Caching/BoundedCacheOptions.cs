using System.Diagnostics.Metrics;

namespace SafeMem.Caching;

/// <summary>Configures a <see cref="BoundedCache{TKey, TValue}"/>.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// Setters validate what they can on their own (positive bounds and times to live, non-empty name); the cache's
/// constructor validates the whole (at least one bound) and copies the options, so changing them afterwards does not
/// affect a cache already built. Not thread-safe: configure on one thread, then build.
/// </remarks>
public sealed class BoundedCacheOptions<TKey, TValue>
    where TKey : notnull
{
    private string? _name;
    private string? _weightUnit;
    private int? _maximumCount;
    private long? _maximumWeight;
    private TimeSpan? _expireAfterWrite;
    private TimeSpan? _expireAfterAccess;
    private TimeProvider _timeProvider = TimeProvider.System;
    private EvictionPolicy _evictionPolicy;

    /// <summary>Gets or sets the name reported as the <c>safemem.name</c> tag and in statistics.</summary>
    /// <value>
    /// Not empty, or <see langword="null"/> for a generated unique name (<c>cache-1</c>, <c>cache-2</c>, ...), so two
    /// unnamed caches never report as one series. Defaults to <see langword="null"/>.
    /// </value>
    public string? Name
    {
        get => _name;
        set
        {
            if (value is not null)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(Name));
            }

            _name = value;
        }
    }

    /// <summary>Gets or sets the unit the weights count, reported as the unit of the <c>safemem.cache.weight</c> instruments.</summary>
    /// <value>
    /// A UCUM unit such as <c>By</c> (bytes) or an annotation in braces such as <c>{row}</c>, or <see langword="null"/>
    /// for <c>{entry}</c> when there is no <see cref="Weigher"/> (every entry weighs 1) and <c>{weight}</c> when there
    /// is one. Defaults to <see langword="null"/>.
    /// </value>
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

    /// <summary>Gets or sets the largest number of entries the cache holds when no write is in flight.</summary>
    /// <value>Greater than zero, or <see langword="null"/> for no count bound (then <see cref="MaximumWeight"/> is required). Defaults to <see langword="null"/>.</value>
    public int? MaximumCount
    {
        get => _maximumCount;
        set
        {
            if (value is int count && count <= 0)
            {
                ThrowNotPositive(nameof(MaximumCount), count);
            }

            _maximumCount = value;
        }
    }

    /// <summary>Gets or sets the largest total weight the cache holds when no write is in flight.</summary>
    /// <value>Greater than zero, or <see langword="null"/> for no weight bound (then <see cref="MaximumCount"/> is required). Defaults to <see langword="null"/>.</value>
    public long? MaximumWeight
    {
        get => _maximumWeight;
        set
        {
            if (value is long weight && weight <= 0)
            {
                ThrowNotPositive(nameof(MaximumWeight), weight);
            }

            _maximumWeight = value;
        }
    }

    /// <summary>Gets or sets the function that weighs an entry, called once per write, outside the cache's lock.</summary>
    /// <value>
    /// A function returning a weight of zero or more, or <see langword="null"/> for every entry weighing 1. A negative
    /// weight or an exception fails the write that called it and changes nothing. Defaults to <see langword="null"/>.
    /// </value>
    public Func<TKey, TValue, long>? Weigher { get; set; }

    /// <summary>Gets or sets how the cache chooses the entries it evicts to keep its bounds.</summary>
    /// <value>A defined <see cref="Caching.EvictionPolicy"/>. Defaults to <see cref="EvictionPolicy.Lru"/>.</value>
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

    /// <summary>Gets or sets the comparer for keys.</summary>
    /// <value><see langword="null"/> for <see cref="EqualityComparer{T}.Default"/>. Defaults to <see langword="null"/>.</value>
    public IEqualityComparer<TKey>? KeyComparer { get; set; }

    /// <summary>Gets or sets how long an entry lives after it was written.</summary>
    /// <value>Greater than zero, or <see langword="null"/> for no limit. Defaults to <see langword="null"/>.</value>
    public TimeSpan? ExpireAfterWrite
    {
        get => _expireAfterWrite;
        set
        {
            ValidateTimeToLive(value, nameof(ExpireAfterWrite));
            _expireAfterWrite = value;
        }
    }

    /// <summary>Gets or sets how long an entry lives after it was last read or written.</summary>
    /// <value>Greater than zero, or <see langword="null"/> for no limit. Defaults to <see langword="null"/>.</value>
    public TimeSpan? ExpireAfterAccess
    {
        get => _expireAfterAccess;
        set
        {
            ValidateTimeToLive(value, nameof(ExpireAfterAccess));
            _expireAfterAccess = value;
        }
    }

    /// <summary>Gets or sets the clock expiry is measured with.</summary>
    /// <value>Not null. Defaults to <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            ArgumentNullException.ThrowIfNull(value, nameof(TimeProvider));
            _timeProvider = value;
        }
    }

    /// <summary>Gets or sets a value indicating whether values that implement <see cref="IDisposable"/> are disposed when they leave the cache.</summary>
    /// <value>
    /// <see langword="true"/> to make the cache own its values: each instance is disposed exactly once, when no entry
    /// and no lease holds it any more, whatever made its last entry leave (including <c>Clear</c> and <c>Dispose</c> of
    /// the cache, and a rejected write); see the cache's remarks for the hand-overs that give an instance back to the
    /// caller, and use <see cref="BoundedCache{TKey, TValue}.TryLease"/> or
    /// <see cref="BoundedCache{TKey, TValue}.GetOrAddLease(TKey, Func{TKey, TValue})"/> to use a value safely while
    /// other threads write. Defaults to <see langword="false"/>.
    /// </value>
    public bool DisposeRemovedValues { get; set; }

    /// <summary>Gets or sets the factory of the meter the cache publishes its instruments through.</summary>
    /// <value><see langword="null"/> for the shared SafeMem meter. Defaults to <see langword="null"/>.</value>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// Gets or sets the seed of the TinyLfu policy's frequency sketch and admission randomness, for tests that need one
    /// run to repeat exactly; null (the default) draws a random seed per cache, so keys cannot be chosen in advance to
    /// collide in the sketch.
    /// </summary>
    internal int? PolicySeed { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every TinyLfu hit on one thread reaches the policy (the synchronous mode):
    /// a reader never samples its hits, however long it reads without a write. By default a thread whose ring of recorded
    /// hits filled 16 times in a row with no write between samples its further hits until a write comes (see
    /// <see cref="RecencyClock"/>); shorter runs of hits reach the policy whole either way. For model tests and the
    /// hit-rate study, whose synchronous column is the policy's ceiling; it costs the reader the policy's work for every
    /// hit, whatever the run.
    /// </summary>
    internal bool ApplyEveryHit { get; set; }

    /// <summary>The unit the weight instruments report in (see <see cref="WeightUnit"/>).</summary>
    internal string ResolveWeightUnit() => _weightUnit ?? (Weigher is null ? "{entry}" : "{weight}");

    /// <summary>Throws when the options as a whole cannot build a cache.</summary>
    internal void Validate()
    {
        if (_maximumCount is null && _maximumWeight is null)
        {
            throw new ArgumentException(
                "A bounded cache needs a bound: set MaximumCount, MaximumWeight, or both.",
                "options");
        }
    }

    private static void ValidateTimeToLive(TimeSpan? value, string option)
    {
        if (value is TimeSpan span && span <= TimeSpan.Zero)
        {
            ThrowNotPositive(option, span);
        }
    }

    // The exception names the option, in its parameter name and its message, so a misconfiguration read from
    // configuration or DI points at the setting to fix.
    private static void ThrowNotPositive(string option, object value)
        => throw new ArgumentOutOfRangeException(option, value, $"{option} must be greater than zero, or null for no limit.");
}
