using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using SafeMem.Telemetry;

namespace SafeMem.Caching;

/// <summary>
/// A thread-safe cache bounded by entry count, total weight, or both, that evicts the least recently used entries to
/// admit new ones, optionally expires entries, and optionally disposes the values it lets go of.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type. Null values are not stored.</typeparam>
/// <remarks>
/// <para><b>What it holds.</b> Keys and values of the entries it contains, strongly, and nothing else: an evicted,
/// expired, removed or cleared entry is let go of by the time the write that removed it returns (a value is kept
/// longer only by an <see cref="EntryRemoved"/> handler or a <see cref="CacheLease{TValue}"/> that holds it). A cache
/// that disposes values also counts, per value it holds or that is leased, the entries and leases holding it. The
/// instruments reach the cache's counters weakly, so a cache dropped without <see cref="Dispose"/> is collected.</para>
/// <para><b>Bounds.</b> When no write is in flight, <see cref="Count"/> &lt;= <see cref="MaximumCount"/> and
/// <see cref="Weight"/> &lt;= <see cref="MaximumWeight"/>. A write always admits its entry: it first removes expired
/// entries, then evicts least recently used ones (reason <see cref="RemovalReason.Evicted"/>) until the new entry
/// fits, synchronously. The only exception is an entry that alone weighs more than <see cref="MaximumWeight"/>: it is
/// not stored, evicts nothing, is reported with reason <see cref="RemovalReason.Rejected"/>, and a previous entry under
/// its key is removed (reason <see cref="RemovalReason.Replaced"/>) so no reader sees the value it meant to replace.
/// A weight is computed once, when the entry is written; a negative weight, a weigher that throws, or a total weight
/// that would overflow fails that write and changes nothing.</para>
/// <para><b>Recency.</b> Exact LRU for a single thread: a hit stamps its entry with the reading thread's next number
/// on the cache's recency clock, and eviction takes the entry with the oldest stamp (see the architecture notes for how
/// that stays cheap). Hits on different threads between two writes are ordered by each thread's own count rather than
/// by time, so under concurrent reads the order is approximate. Recording a hit keeps no reference to the entry: an
/// entry that leaves is unreachable from the cache as soon as the write that removed it returns.</para>
/// <para><b>Expiry.</b> <see cref="BoundedCacheOptions{TKey, TValue}.ExpireAfterWrite"/> and
/// <see cref="BoundedCacheOptions{TKey, TValue}.ExpireAfterAccess"/> hold for every entry; an entry expires when
/// now &gt;= its deadline. An expired entry is never returned, even before it is purged. Purging is amortized: a read
/// that finds an expired entry removes it, and every write first removes every expired entry, whatever the policy and
/// whether the time to live is cache-wide or the entry's own, before it evicts anything (in write order for expiry after
/// write, and by deadline from a heap for expiry after access and per-entry expiry, so the cost is proportional to what
/// it removes plus O(log n) per entry read since it was placed there). No timer is used.</para>
/// <para><b>Loading.</b> <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/> and its overloads run the factory outside any
/// lock, at most once per key at a time: concurrent callers for the key wait for that run and share its result. If it
/// throws, is cancelled or returns null, every waiter sees that exception and nothing is cached; the next call runs the
/// factory again. A factory may ask for other keys, of this cache or others, but not wait for itself: one that asks
/// for its own key, or for a key whose load waits (through other factories) for its own, gets an
/// <see cref="InvalidOperationException"/> instead of a deadlock. An async caller whose token is cancelled stops
/// waiting at once, while the factory runs on for the cache and the other waiters. A value loaded while a <c>Set</c>
/// for the same key ran replaces that value.</para>
/// <para><b>User code.</b> Weighers and factories run before the cache changes, so their exceptions simply fail the
/// call. <see cref="EntryRemoved"/> handlers and value disposal run after the operation completed and outside every
/// lock, on the thread that removed the entry; every handler and disposal runs even if an earlier one throws, then the
/// exception (or an <see cref="AggregateException"/> of several) is thrown to the caller of the operation, which has
/// taken full effect. Handlers may call the cache.</para>
/// <para><b>Disposal of values.</b> With <see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>, the
/// cache owns the values it is given (by a write or a factory) that implement <see cref="IDisposable"/>, and disposes
/// each exactly once, when no entry and no lease holds that instance any more: when its last entry leaves for any
/// reason (evicted, expired, replaced, removed, cleared, the cache disposed, or a write refused for weight) and its
/// last <see cref="CacheLease{TValue}"/> is disposed, whichever comes last, after the <see cref="EntryRemoved"/>
/// handlers: a removal whose handlers have not run yet holds the value too, so a lease released on another thread
/// while they run never disposes it under them. Holders are counted per instance (reference equality): one instance stored under two keys, or written
/// again under its key, is disposed once, after the last of them. Two ways hand an instance back to the caller
/// instead, who then owns it and the cache never disposes it (until a write gives it to the cache again):
/// <see cref="TryRemove(TKey, out TValue)"/> of its last entry, and a write of the very instance stored under the key
/// that is refused because it now weighs more than <see cref="MaximumWeight"/>. A value returned without a lease
/// (<see cref="TryGet"/>, <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>, enumeration) may be disposed by a removal
/// on another thread at any time, even before the call returns; to use a value while other threads write, take it with
/// <see cref="TryLease"/>, <see cref="GetOrAddLease(TKey, Func{TKey, TValue})"/> or <see cref="GetOrAddLeaseAsync"/>.
/// On a single thread (or with no concurrent removal of the value) no member returns a value it has disposed.</para>
/// <para><b>Thread-safety.</b> Every member is safe to call concurrently. Reads take no lock and no interlocked
/// instruction (a hash lookup and two plain stores: the entry's stamp and the thread's own hit count); writes serialize
/// on one policy lock held for the table, recency and weight updates. In a cache that disposes values, taking and
/// releasing a lease also take that lock briefly (the holder counts live under it); a plain hit never does. Under
/// <see cref="EvictionPolicy.TinyLfu"/>, a hit is recorded in the reading thread's ring of 64; the reader whose ring is
/// full applies every ring's hits to the policy itself if the lock is free (one <c>Monitor.TryEnter</c> per full ring, not
/// per hit), and drops that hit's record if it is not (the hit still counts). A thread that reads over a thousand times
/// in a row with no write between samples its further hits at random until a write comes, which bounds what the policy
/// costs a read-only stretch. No work is handed to another thread, so what reaches the policy on one thread, or on
/// threads taking turns, does not depend on scheduling.</para>
/// <para><b>Dispose.</b> Stops the telemetry, lets go of every entry (disposing values if configured, without raising
/// <see cref="EntryRemoved"/>); afterwards every member throws <see cref="ObjectDisposedException"/>. Dispose is
/// idempotent.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}, Weight = {Weight}")]
public sealed partial class BoundedCache<TKey, TValue> : IDisposable, IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : notnull
{
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly CacheCounters _counters;
    private readonly RecencyClock _clock;
    private readonly IDisposable _registration;
    private readonly Func<TKey, TValue, long>? _weigher;
    private readonly TimeProvider _timeProvider;
    private readonly long _expireAfterWriteTicks;
    private readonly long _expireAfterAccessTicks;
    private readonly bool _expires;
    private EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>[] _handlers = [];
    private ConcurrentDictionary<TKey, PendingLoad>? _loads;
    private volatile bool _disposed;

    // What a hit must do besides the LRU stamp (see HitFlags); 0 for an LRU cache whose entries cannot expire.
    private int _hitFlags;

    /// <summary>Initializes a new cache from <paramref name="options"/> (which are copied).</summary>
    /// <param name="options">The options; at least one bound must be set.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">Neither <c>MaximumCount</c> nor <c>MaximumWeight</c> is set.</exception>
    public BoundedCache(BoundedCacheOptions<TKey, TValue> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Name = InstanceNames.Resolve(options.Name, "cache");
        MaximumCount = options.MaximumCount;
        MaximumWeight = options.MaximumWeight;
        _weigher = options.Weigher;
        _comparer = options.KeyComparer;
        _keyComparer = typeof(TKey).IsValueType ? _comparer : _comparer ?? EqualityComparer<TKey>.Default;
        _timeProvider = options.TimeProvider;
        _expireAfterWriteTicks = options.ExpireAfterWrite?.Ticks ?? TimedCacheNode<TKey, TValue>.NoLimit;
        _expireAfterAccessTicks = options.ExpireAfterAccess?.Ticks ?? TimedCacheNode<TKey, TValue>.NoLimit;
        _expires = options.ExpireAfterWrite is not null || options.ExpireAfterAccess is not null;
        _hitFlags = (_expires ? MayExpireFlag : 0)
            | (options.EvictionPolicy == EvictionPolicy.TinyLfu ? RecordsReadsFlag | (options.ApplyEveryHit ? AppliesEveryHitFlag : 0) : 0);
#pragma warning disable CS8714 // See _holds: no key is ever null.
        _holds = options.DisposeRemovedValues ? new Dictionary<TValue, ValueHolds>(InstanceComparer()) : null;
#pragma warning restore CS8714
        _counters = new CacheCounters(MaximumCount, MaximumWeight, options.ResolveWeightUnit(), options.EvictionPolicy);
        _clock = _counters.Clock;
        _recency = NewOrder(options, out _lru, out _lfu);
        _registration = _counters.Register(SafeMemMeter.Resolve(options.MeterFactory), Name);
    }

    /// <summary>Raised after an entry left the cache (or a write was rejected), outside every lock, on the thread that removed it.</summary>
    /// <remarks>Not raised by <see cref="Dispose"/>. See the type's remarks for what happens when a handler throws.</remarks>
    public event EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>? EntryRemoved
    {
        add
        {
            ThrowIfDisposed();
            if (value is null)
            {
                return;
            }

            // Copy-on-write array: removals read a snapshot without a lock and can run every handler even if one throws.
            EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>[] current, next;
            do
            {
                current = Volatile.Read(ref _handlers);
                next = [.. current, value];
            }
            while (Interlocked.CompareExchange(ref _handlers, next, current) != current);
        }

        remove
        {
            if (value is null)
            {
                return;
            }

            EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>[] current, next;
            do
            {
                current = Volatile.Read(ref _handlers);
                int index = Array.LastIndexOf(current, value);
                if (index < 0)
                {
                    return;
                }

                next = [.. current.AsSpan(0, index), .. current.AsSpan(index + 1)];
            }
            while (Interlocked.CompareExchange(ref _handlers, next, current) != current);
        }
    }

    /// <summary>Gets the cache's name (the <c>safemem.name</c> tag).</summary>
    public string Name { get; }

    /// <summary>Gets the count bound, or <see langword="null"/> when the cache is bounded by weight only.</summary>
    public int? MaximumCount { get; }

    /// <summary>Gets the weight bound, or <see langword="null"/> when the cache is bounded by count only.</summary>
    public long? MaximumWeight { get; }

    /// <summary>Gets the number of entries held (expired entries not yet purged included).</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public int Count
    {
        get
        {
            ThrowIfDisposed();
            return (int)Volatile.Read(ref _counters.EntryCount);
        }
    }

    /// <summary>Gets the total weight of the entries held.</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public long Weight
    {
        get
        {
            ThrowIfDisposed();
            return Volatile.Read(ref _counters.Weight);
        }
    }

    /// <summary>Looks up <paramref name="key"/>; a hit makes the entry the most recently used.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value when found.</param>
    /// <returns><see langword="true"/> if a live (unexpired) entry was found.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (TryGetNode(key, out CacheNode<TKey, TValue>? node))
        {
            value = node.Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Tells whether a live entry exists for <paramref name="key"/>, without counting a lookup or changing recency.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if a live entry exists.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool ContainsKey(TKey key)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        return TryPeekLive(key, out _);
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> as the most recently used entry, evicting as needed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value; not null.</param>
    /// <remarks>
    /// With <see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/> the cache owns <paramref name="value"/>
    /// from now on, even if the write is refused (a value heavier than <see cref="MaximumWeight"/> is then disposed
    /// once nothing else holds it). Writing the very instance already stored under <paramref name="key"/> never disposes
    /// it: it stays stored with its weight measured again, or, if it now weighs more than the bound, leaves and is the
    /// caller's again.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The weigher returned a negative weight.</exception>
    /// <exception cref="OverflowException">The total weight would overflow (possible only without a weight bound).</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public void Set(TKey key, TValue value)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        if (value is null)
        {
            ThrowValueNull();
        }

        CacheNode<TKey, TValue> node = NewNode(key, value, HashOf(key), Weigh(key, value), ownExpiry: false);
        List<PendingRemoval>? removals = null;
        lock (_lock)
        {
            ThrowIfDisposed();
            SetLocked(node, default, ref removals);
        }

        Publish(removals);
    }

    /// <summary>Removes the entry for <paramref name="key"/> (reason <see cref="RemovalReason.Removed"/>).</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if a live entry was removed (an expired one is purged and reported as not found).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryRemove(TKey key) => TryRemoveCore(key, handOver: false, out _);

    /// <summary>
    /// Removes the entry for <paramref name="key"/> (reason <see cref="RemovalReason.Removed"/>) and hands its value to
    /// the caller, who then owns it: the cache does not dispose it, even when a lease on it ends later. If the same
    /// instance is still stored under another key, the cache keeps owning it through that entry.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The removed value.</param>
    /// <returns><see langword="true"/> if a live entry was removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryRemove(TKey key, [MaybeNullWhen(false)] out TValue value) => TryRemoveCore(key, handOver: true, out value);

    /// <summary>Removes every entry (reason <see cref="RemovalReason.Cleared"/>).</summary>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public void Clear()
    {
        ThrowIfDisposed();
        List<PendingRemoval>? removals = null;
        lock (_lock)
        {
            ThrowIfDisposed();
            DrainReadsLocked();

            foreach (CacheNode<TKey, TValue> node in _recency.ToList())
            {
                RemoveLocked(node, RemovalReason.Cleared, ref removals);
            }

            // Give back the memory a large cache grew into; an empty table needs no version change (every lookup misses).
            _recency.Clear();
            ClearTableLocked();
            if (_holds is { Count: 0 })
            {
                _holds.TrimExcess();
            }
        }

        Publish(removals);
    }

    /// <summary>Returns a snapshot of the figures the cache's instruments publish.</summary>
    /// <returns>The statistics.</returns>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public CacheStatistics GetStatistics()
    {
        ThrowIfDisposed();
        return _counters.Snapshot(Name);
    }

    /// <summary>Returns a snapshot of the live entries, most recently used first. Does not change recency or count lookups.</summary>
    /// <returns>An enumerator over the snapshot.</returns>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator()
    {
        ThrowIfDisposed();
        (long Stamp, CacheNode<TKey, TValue> Node)[] entries;
        int live = 0;
        lock (_lock)
        {
            ThrowIfDisposed();
            DrainReadsLocked();
            long now = _writeFirst is null ? 0 : Now();
            entries = new (long, CacheNode<TKey, TValue>)[_recency.Count];
            foreach (CacheNode<TKey, TValue> node in _recency.ToList())
            {
                if (node is not TimedCacheNode<TKey, TValue> timed || !timed.IsExpired(now))
                {
                    // Read each stamp once: readers change them meanwhile, and a sort needs keys that stay put.
                    entries[live++] = (Volatile.Read(ref node.Stamp), node);
                }
            }
        }

        Array.Sort(entries, 0, live, NewestFirst.Instance);
        var snapshot = new List<KeyValuePair<TKey, TValue>>(live);
        for (int i = 0; i < live; i++)
        {
            snapshot.Add(new KeyValuePair<TKey, TValue>(entries[i].Node.Key, entries[i].Node.Value));
        }

        return snapshot.GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Stops telemetry and lets go of every entry, disposing values if the cache owns them (deferred while leased).
    /// Raises no <see cref="EntryRemoved"/>. Idempotent.
    /// </summary>
    /// <exception cref="AggregateException">Several values threw from <c>Dispose</c> (all were still disposed and released).</exception>
    public void Dispose()
    {
        List<PendingRemoval>? removals = null;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (CacheNode<TKey, TValue> node in _recency.ToList())
            {
                if (node is TimedCacheNode<TKey, TValue> timed)
                {
                    timed.WritePrev = null;
                    timed.WriteNext = null;
                }

                // Dispose raises no handlers, so nothing is published that would need to hold the value.
                if (ReleaseEntryLocked(node.Value, handOver: false, publishing: false, out _))
                {
                    (removals ??= []).Add(new PendingRemoval(node, RemovalReason.Cleared, Dispose: true));
                }
            }

            _recency.Clear();
            _clock.DiscardReads();
            ClearTableLocked();
            _writeFirst = null;
            _writeLast = null;
            _expiry?.Clear();
            _counters.EntryCount = 0;
            _counters.Weight = 0;
            _handlers = [];
        }

        _registration.Dispose();
        Publish(removals, raiseEvents: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryGetNode(TKey key, [NotNullWhen(true)] out CacheNode<TKey, TValue>? node)
    {
        ThrowIfKeyNull(key);
        node = Find(key);
        if (node is not null)
        {
            int flags = Volatile.Read(ref _hitFlags);
            if (flags == 0)
            {
                // The whole of an LRU hit's bookkeeping: one count and one stamp, both plain stores (see RecencyClock).
                node.Stamp = _clock.Hit();
                return true;
            }

            if (HitWithFlags(node, flags))
            {
                return true;
            }
        }

        // Checked here rather than first: Dispose empties the table, so every lookup on a disposed cache ends here. (A
        // lookup racing with Dispose may still hit, as it could had it started a moment earlier.)
        ThrowIfDisposed();
        _counters.Misses.Increment();
        node = null;
        return false;
    }

    private bool TouchTimed(TimedCacheNode<TKey, TValue> node)
    {
        long now = Now();
        if (node.IsExpired(now))
        {
            ExpireOnRead(node);
            return false;
        }

        if (node.AccessTimeToLive != TimedCacheNode<TKey, TValue>.NoLimit)
        {
            Volatile.Write(ref node.LastAccess, now);
        }

        return true;
    }

    private bool TryPeekLive(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (Find(key) is { } node
            && (node is not TimedCacheNode<TKey, TValue> timed || !timed.IsExpired(Now())))
        {
            value = node.Value;
            return true;
        }

        value = default;
        return false;
    }

    private long Weigh(TKey key, TValue value)
    {
        if (_weigher is null)
        {
            return 1;
        }

        long weight = _weigher(key, value);
        if (weight < 0)
        {
            ThrowNegativeWeight(key, weight);
        }

        return weight;
    }

    private CacheNode<TKey, TValue> NewNode(TKey key, TValue value, int hash, long weight, bool ownExpiry)
    {
        if (_expires || ownExpiry)
        {
            return new TimedCacheNode<TKey, TValue>(key, value, hash, weight);
        }

        return weight == 1 ? new CacheNode<TKey, TValue>(key, value, hash) : new WeightedCacheNode<TKey, TValue>(key, value, hash, weight);
    }

    private long Now() => _timeProvider.GetUtcNow().UtcTicks;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowDisposed();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ThrowIfKeyNull(TKey key)
    {
        if (key is null)
        {
            ThrowKeyNull();
        }
    }

    [DoesNotReturn]
    private void ThrowDisposed() => throw new ObjectDisposedException(GetType().Name, $"The cache '{Name}' is disposed.");

    [DoesNotReturn]
    private static void ThrowKeyNull() => throw new ArgumentNullException("key");

    [DoesNotReturn]
    private static void ThrowValueNull() => throw new ArgumentNullException("value", "A bounded cache does not store null values.");

    [DoesNotReturn]
    private static void ThrowNegativeWeight(TKey key, long weight)
        => throw new InvalidOperationException($"The weight of the entry for key '{key}' is {weight}; weights must be zero or more. Nothing was stored.");

    /// <summary>Orders stamps newest first, by signed difference (the clock may wrap).</summary>
    private sealed class NewestFirst : IComparer<(long Stamp, CacheNode<TKey, TValue> Node)>
    {
        public static readonly NewestFirst Instance = new();

        public int Compare((long Stamp, CacheNode<TKey, TValue> Node) x, (long Stamp, CacheNode<TKey, TValue> Node) y)
            => Math.Sign(y.Stamp - x.Stamp);
    }
}
