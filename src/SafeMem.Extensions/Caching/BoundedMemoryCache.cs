using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SafeMem.Caching;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// An <see cref="IMemoryCache"/> that is bounded by entry count and/or total weight, evicts the least recently used
/// entries synchronously to stay within its bounds, and admits every new entry: a drop-in replacement for
/// <c>MemoryCache</c> in code (and third-party libraries) written against <see cref="IMemoryCache"/>.
/// Backed by <see cref="BoundedCache{TKey, TValue}"/>, whose telemetry it publishes under <see cref="Name"/>.
/// </summary>
/// <remarks>
/// <para><b>Strong and weak references.</b> Entries (keys, values, their callbacks and callback state) are held strongly
/// until they leave the cache: evicted for a bound, expired, removed, replaced or cleared. A change token given to an
/// entry holds that entry only weakly, and the entry stops listening to its tokens as soon as it leaves, so a
/// long-lived token (such as a configuration reload token) never keeps an entry, its value or the cache alive.
/// The meter's instruments hold the cache weakly.</para>
/// <para><b>Bounds and admission.</b> Unlike <c>MemoryCache</c> with a <c>SizeLimit</c>, which refuses new entries
/// once full and compacts later on the thread pool, this cache stores the new entry and evicts the least recently
/// used ones before the write returns. Under a weight bound, an entry's weight is its <see cref="ICacheEntry.Size"/>,
/// or <see cref="BoundedMemoryCacheOptions.DefaultEntryWeight"/> when it sets none (a <c>MemoryCache</c> with a
/// <c>SizeLimit</c> throws instead). A single entry heavier than <see cref="MaximumWeight"/> is not stored, evicts
/// nothing, and reports <see cref="EvictionReason.Capacity"/>. Without a weight bound sizes are accepted and ignored,
/// as <c>MemoryCache</c> ignores them without a <c>SizeLimit</c>: entries weigh nothing, <see cref="Weight"/> stays 0
/// and <see cref="GetCurrentStatistics"/> reports no estimated size.</para>
/// <para><b>Expiration.</b> Absolute (<see cref="ICacheEntry.AbsoluteExpiration"/> and
/// <see cref="ICacheEntry.AbsoluteExpirationRelativeToNow"/>; when both are set the earlier instant wins), sliding
/// (refreshed by every read) and change tokens. An expired entry is never returned; time-expired entries are purged
/// lazily, never by a timer: by a read that finds one, and all of them by every write before it evicts anything. A token that fires removes the entry it was given to
/// (reason <see cref="EvictionReason.TokenExpired"/>), never a newer entry under the same key. Tokens that cannot call
/// back are checked on every read of their entry. An entry already expired when it is committed (a past absolute
/// expiration, or a token that has fired) is not stored: the entry it would have replaced leaves with
/// <see cref="EvictionReason.Replaced"/> and its own callbacks see <see cref="EvictionReason.Expired"/> (or
/// <see cref="EvictionReason.TokenExpired"/>), as with <c>MemoryCache</c>. <see cref="Remove"/> reports
/// <see cref="EvictionReason.Removed"/> even for an entry that had expired but was not purged yet, as
/// <c>MemoryCache</c> does. As with <c>MemoryCache</c>, committing an entry that set
/// <see cref="ICacheEntry.AbsoluteExpirationRelativeToNow"/> fills in its <see cref="ICacheEntry.AbsoluteExpiration"/>
/// with the instant it expires.</para>
/// <para><b>Statistics.</b> <see cref="GetCurrentStatistics"/> returns <see langword="null"/> unless
/// <see cref="BoundedMemoryCacheOptions.TrackStatistics"/> is set, as with <c>MemoryCache</c>; the engine counts
/// either way, and <see cref="GetStatistics"/> and the <c>safemem.cache.*</c> instruments always report. Every
/// <see cref="TryGetValue"/> counts one lookup, by what it returned: a read that finds an entry whose polling change
/// token has fired is a miss, as with <c>MemoryCache</c>.</para>
/// <para><b>Priority</b> is stored but does not change eviction order, and <see cref="CacheItemPriority.NeverRemove"/>
/// entries are evicted like any other: a cache that could refuse to evict would no longer be bounded. Nested
/// <see cref="CreateEntry"/> scopes do not propagate expiration to the outer entry as <c>MemoryCache</c>'s
/// linked entries do.</para>
/// <para><b>Post-eviction callbacks</b> run synchronously, outside the cache's locks, on the thread whose operation removed
/// the entry (for a token, the thread that fired it), after that operation has completed; <c>MemoryCache</c>
/// runs them later on the thread pool. They may call back into the cache.</para>
/// <para><b>Thread-safety.</b> Every member is safe to call concurrently. Reads take no global lock. The
/// <see cref="ICacheEntry"/> from <see cref="CreateEntry"/> belongs to one thread until it is disposed.
/// <c>GetOrCreate</c>/<c>GetOrCreateAsync</c> (extension methods over <see cref="TryGetValue"/> and
/// <see cref="CreateEntry"/>) may run their factory more than once for one key under concurrency, exactly as with
/// <c>MemoryCache</c>; use <see cref="BoundedCache{TKey, TValue}.GetOrAdd(TKey, Func{TKey, TValue})"/> directly
/// for once-per-key factories.</para>
/// <para><b>User code that throws.</b> When post-eviction callbacks throw, the operation that removed the entries has
/// completed and every other callback has run; the exception then propagates to the caller of that operation (one
/// exception as is, several as an <see cref="AggregateException"/>). The cache stays consistent and loses no other
/// entry; in particular, an entry whose commit evicted another whose callback threw is stored and listens to its
/// change tokens.</para>
/// <para><b>Disposal.</b> <see cref="Dispose"/> stops listening to every entry's change tokens, lets go of all entries
/// without running their post-eviction callbacks (as <c>MemoryCache</c> does), and unregisters the
/// cache's instruments. Afterwards every member throws <see cref="ObjectDisposedException"/>, except that disposing an
/// <see cref="ICacheEntry"/> created before is ignored (it stores nothing and runs no callbacks, as with
/// <c>MemoryCache</c>); disposing again does nothing.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}, Weight = {Weight}")]
public sealed class BoundedMemoryCache : IMemoryCache
{
    private static readonly Action<BoundedMemoryCacheEntry> s_registerTokenCallbacks = static entry => entry.RegisterTokenCallbacks();

    private readonly BoundedCache<object, BoundedMemoryCacheEntry> _cache;
    private readonly TimeProvider _timeProvider;
    private readonly long _defaultEntryWeight;
    private readonly bool _trackStatistics;
    private volatile bool _disposed;

    /// <summary>Creates a cache from <paramref name="optionsAccessor"/> (a <see cref="BoundedMemoryCacheOptions"/> itself will do).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="optionsAccessor"/> or its value is null.</exception>
    /// <exception cref="ArgumentException">The options set no bound.</exception>
    public BoundedMemoryCache(IOptions<BoundedMemoryCacheOptions> optionsAccessor)
        : this(optionsAccessor, fallbackMeterFactory: null)
    {
    }

    /// <summary>Creates a cache; <paramref name="fallbackMeterFactory"/> (the container's) is used when the options name no meter factory.</summary>
    internal BoundedMemoryCache(IOptions<BoundedMemoryCacheOptions> optionsAccessor, IMeterFactory? fallbackMeterFactory)
    {
        ArgumentNullException.ThrowIfNull(optionsAccessor);
        BoundedMemoryCacheOptions options = optionsAccessor.Value;
        ArgumentNullException.ThrowIfNull(options, nameof(optionsAccessor));
        options.Validate();

        _timeProvider = options.TimeProvider;
        _defaultEntryWeight = options.DefaultEntryWeight;
        _trackStatistics = options.TrackStatistics;
        _cache = new BoundedCache<object, BoundedMemoryCacheEntry>(new BoundedCacheOptions<object, BoundedMemoryCacheEntry>
        {
            Name = options.Name,
            WeightUnit = options.WeightUnit ?? "{weight}",
            MaximumCount = options.MaximumCount,
            MaximumWeight = options.MaximumWeight,
            EvictionPolicy = options.EvictionPolicy,
            TimeProvider = options.TimeProvider,
            MeterFactory = options.MeterFactory ?? fallbackMeterFactory,
        });

        // The engine holds this handler (and so this adapter) strongly; both live and die together.
        _cache.EntryRemoved += OnEntryRemoved;
    }

    /// <summary>Gets the cache's name: the <c>safemem.name</c> tag of its measurements.</summary>
    public string Name => _cache.Name;

    /// <summary>Gets the eviction policy the cache was built with.</summary>
    public EvictionPolicy EvictionPolicy => _cache.EvictionPolicy;

    /// <summary>Gets the most entries the cache holds, or <see langword="null"/> for no count bound.</summary>
    public int? MaximumCount => _cache.MaximumCount;

    /// <summary>Gets the most total weight the cache holds, or <see langword="null"/> for no weight bound.</summary>
    public long? MaximumWeight => _cache.MaximumWeight;

    /// <summary>Gets the number of entries stored (expired entries not yet purged included).</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public int Count => _cache.Count;

    /// <summary>Gets the total weight of the entries stored.</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public long Weight => _cache.Weight;

    /// <summary>Returns the value stored under <paramref name="key"/>, if there is one that has not expired.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryGetValue(object key, out object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_cache.TryGet(key, out BoundedMemoryCacheEntry? entry))
        {
            // Tokens that call back remove their entry when they fire; polling tokens can only be checked here.
            if (!entry.HasExpirationTokens || !entry.CheckTokensChanged())
            {
                value = entry.Value;
                return true;
            }

            // The engine counted this lookup as a hit when it found the entry; the caller sees a miss, and MemoryCache
            // counts one.
            _cache.CountHitAsMiss();

            // Only this entry: a newer one written under the key since the read above stays.
            _cache.TryRemove(key, entry, RemovalReason.Expired);
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Creates an entry for <paramref name="key"/>; it is stored when disposed, if a value was set on it (so a
    /// factory that throws before setting the value stores nothing).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public ICacheEntry CreateEntry(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new BoundedMemoryCacheEntry(this, key);
    }

    /// <summary>
    /// Removes the entry stored under <paramref name="key"/>, if any; its callbacks see <see cref="EvictionReason.Removed"/>,
    /// even when the entry had expired and was not purged yet (as with <c>MemoryCache</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public void Remove(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _cache.Remove(key, RemovalReason.Removed);
    }

    /// <summary>As <see cref="Remove"/>, and says whether an entry was there to remove (the backplane counts those).</summary>
    internal bool TryRemove(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _cache.Remove(key, RemovalReason.Removed);
    }

    /// <summary>Removes every entry (their callbacks see <see cref="EvictionReason.Removed"/>, as with <c>MemoryCache.Clear</c>).</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public void Clear() => _cache.Clear();

    /// <summary>
    /// Returns hits, misses, entry count and weight (as the estimated size, reported only under a weight bound, as
    /// <c>MemoryCache</c> reports it only with a <c>SizeLimit</c>): the figures <c>MemoryCache</c> reports. As with
    /// <c>MemoryCache</c>, returns <see langword="null"/> unless <see cref="BoundedMemoryCacheOptions.TrackStatistics"/>
    /// is set; <see cref="GetStatistics"/> always reports.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public MemoryCacheStatistics? GetCurrentStatistics()
    {
        CacheStatistics statistics = _cache.GetStatistics();
        if (!_trackStatistics)
        {
            // After GetStatistics, so a disposed cache throws whether or not statistics are tracked.
            return null;
        }

        return new MemoryCacheStatistics
        {
            TotalHits = statistics.Hits,
            TotalMisses = statistics.Misses,
            CurrentEntryCount = statistics.EntryCount,
            CurrentEstimatedSize = MaximumWeight is null ? null : statistics.Weight,
        };
    }

    /// <summary>Returns the engine's full statistics (evictions by reason, limits, ...): the figures its instruments publish.</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public CacheStatistics GetStatistics() => _cache.GetStatistics();

    /// <summary>Stops listening to change tokens and lets go of every entry without running callbacks; idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Callbacks do not run on disposal; unsubscribing first also means a concurrent removal cannot run them
        // against a half-disposed cache.
        _cache.EntryRemoved -= OnEntryRemoved;
        try
        {
            foreach (KeyValuePair<object, BoundedMemoryCacheEntry> pair in _cache)
            {
                pair.Value.ReleaseTokenCallbacks();
            }
        }
        catch (ObjectDisposedException)
        {
            // A concurrent Dispose got to the engine first; it released the tokens it saw.
        }

        // An entry committed concurrently with this loop may still register token callbacks; they hold the entry
        // only weakly and find a disposed cache when they fire (see OnTokenChanged), so nothing leaks or throws.
        _cache.Dispose();
    }

    /// <summary>Stores <paramref name="entry"/> (called once, when it is disposed with a value set).</summary>
    internal void Commit(BoundedMemoryCacheEntry entry)
    {
        if (_disposed)
        {
            // As MemoryCache does: an entry committed after the cache was disposed is dropped, and runs no callbacks.
            return;
        }

        DateTimeOffset? absolute = entry.AbsoluteExpiration;
        if (entry.AbsoluteExpirationRelativeToNow is { } relative)
        {
            DateTimeOffset fromNow = _timeProvider.GetUtcNow() + relative;
            absolute = absolute is { } given && given < fromNow ? given : fromNow;

            // As MemoryCache does on commit: the entry's AbsoluteExpiration reads the instant it expires.
            entry.AbsoluteExpiration = absolute;
        }

        if (entry.HasExpirationTokens && entry.CheckTokensChanged())
        {
            // A token that has already fired: written as already expired, so the engine stores nothing, reports the
            // entry it would have replaced as Replaced and this one as expired (TokenExpired, see ToEvictionReason).
            absolute = DateTimeOffset.MinValue;
        }

        // Without a weight bound nothing is weighed (as MemoryCache ignores sizes without a SizeLimit), so no size can
        // overflow the total.
        long weight = MaximumWeight is null ? 0 : entry.Size ?? _defaultEntryWeight;
        try
        {
            // Token callbacks are registered once the entry is stored and before the write's removals are published:
            // a post-eviction callback of an entry this write evicted may throw, and must not leave this one deaf.
            _cache.Set(entry.Key, entry, new CacheEntryPolicy(weight, absolute, entry.SlidingExpiration), s_registerTokenCallbacks);
        }
        catch (ObjectDisposedException) when (_disposed)
        {
            // Disposed between the check above and the write: dropped, as above.
        }
    }

    /// <summary>A token of <paramref name="entry"/> fired: remove that entry (not a newer one under its key).</summary>
    internal void OnTokenChanged(BoundedMemoryCacheEntry entry)
    {
        entry.MarkTokenExpired();
        if (_disposed)
        {
            return;
        }

        try
        {
            _cache.TryRemove(entry.Key, entry, RemovalReason.Expired);
        }
        catch (ObjectDisposedException)
        {
            // Race with Dispose, which lets go of every entry anyway: there is nothing left to remove.
        }
    }

    private void OnEntryRemoved(object? sender, CacheEntryRemovedEventArgs<object, BoundedMemoryCacheEntry> e)
    {
        BoundedMemoryCacheEntry entry = e.Value;
        entry.ReleaseTokenCallbacks();
        entry.InvokePostEvictionCallbacks(ToEvictionReason(e.Reason, entry));
    }

    private static EvictionReason ToEvictionReason(RemovalReason reason, BoundedMemoryCacheEntry entry) => reason switch
    {
        RemovalReason.Evicted or RemovalReason.Rejected => EvictionReason.Capacity,
        // A token that fired while the entry's time ran out too: either reason is true; the token is reported.
        RemovalReason.Expired => entry.TokenExpired ? EvictionReason.TokenExpired : EvictionReason.Expired,
        RemovalReason.Replaced => EvictionReason.Replaced,
        RemovalReason.Removed or RemovalReason.Cleared => EvictionReason.Removed,
        _ => EvictionReason.None,
    };
}
