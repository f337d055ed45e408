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
/// longer only by an <see cref="EntryRemoved"/> handler or a <see cref="CacheLease{TValue}"/> that holds it). The
/// instruments reach the cache's counters weakly, so a cache dropped without <see cref="Dispose"/> is collected.</para>
/// <para><b>Bounds.</b> When no write is in flight, <see cref="Count"/> &lt;= <see cref="MaximumCount"/> and
/// <see cref="Weight"/> &lt;= <see cref="MaximumWeight"/>. A write always admits its entry: it first removes expired
/// entries, then evicts least recently used ones (reason <see cref="RemovalReason.Evicted"/>) until the new entry
/// fits, synchronously. The only exception is an entry that alone weighs more than <see cref="MaximumWeight"/>: it is
/// not stored, evicts nothing, is reported with reason <see cref="RemovalReason.Rejected"/>, and a previous entry under
/// its key is removed (reason <see cref="RemovalReason.Replaced"/>) so no reader sees the value it meant to replace.
/// A weight is computed once, when the entry is written; a negative weight, a weigher that throws, or a total weight
/// that would overflow fails that write and changes nothing.</para>
/// <para><b>Recency.</b> Exact LRU for a single thread: reads are recorded in a small lock-free buffer (per thread
/// stripe, in order) that is applied before every eviction decision, and a write applies its own thread's recorded
/// reads first. Under concurrent reads a recorded read may be dropped when its stripe is full and the policy lock busy,
/// so the order is approximate only then. A recorded read holds its entry until applied: an entry replaced by a write
/// that evicts nothing may stay reachable from another thread's stripe (at most 64 entries per reading thread) until
/// that thread's next drain or any evicting write, <see cref="Clear"/> or <see cref="TryRemove(TKey)"/>.</para>
/// <para><b>Expiry.</b> <see cref="BoundedCacheOptions{TKey, TValue}.ExpireAfterWrite"/> and
/// <see cref="BoundedCacheOptions{TKey, TValue}.ExpireAfterAccess"/> hold for every entry; an entry expires when
/// now &gt;= its deadline. An expired entry is never returned, even before it is purged. Purging is amortized: a read
/// that finds an expired entry removes it, and every write first removes all entries expired by the cache-wide times to
/// live (in write order and from the LRU end, so the cost is proportional to what it removes). No timer is used.</para>
/// <para><b>Loading.</b> <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/> and its overloads run the factory outside any
/// lock, at most once per key at a time: concurrent callers for the key wait for that run and share its result. If it
/// throws, is cancelled or returns null, every waiter sees that exception and nothing is cached; the next call runs the
/// factory again. A factory that asks this cache for its own key gets an <see cref="InvalidOperationException"/>; other
/// keys are fine. A value loaded while a <c>Set</c> for the same key ran replaces that value.</para>
/// <para><b>User code.</b> Weighers and factories run before the cache changes, so their exceptions simply fail the
/// call. <see cref="EntryRemoved"/> handlers and value disposal run after the operation completed and outside every
/// lock, on the thread that removed the entry; every handler and disposal runs even if an earlier one throws, then the
/// exception (or an <see cref="AggregateException"/> of several) is thrown to the caller of the operation, which has
/// taken full effect. Handlers may call the cache.</para>
/// <para><b>Disposal of values.</b> With <see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>, a value
/// that implements <see cref="IDisposable"/> is disposed exactly once when it leaves for any reason (including a
/// rejected write, <see cref="Clear"/> and <see cref="Dispose"/>), after the <see cref="EntryRemoved"/> handlers; to
/// keep using a value that may leave meanwhile, take it with <see cref="TryLease"/>, which defers the disposal until
/// the lease is disposed. The value handed out by <see cref="TryRemove(TKey, out TValue)"/> becomes the caller's and
/// is not disposed, and a write of the very instance already stored under the key does not dispose it.</para>
/// <para><b>Thread-safety.</b> Every member is safe to call concurrently. Reads take no lock (a dictionary lookup and
/// a buffer slot write); writes serialize on one policy lock held only for the list and weight updates.</para>
/// <para><b>Dispose.</b> Stops the telemetry, lets go of every entry (disposing values if configured, without raising
/// <see cref="EntryRemoved"/>); afterwards every member throws <see cref="ObjectDisposedException"/>. Dispose is
/// idempotent.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}, Weight = {Weight}")]
public sealed partial class BoundedCache<TKey, TValue> : IDisposable, IEnumerable<KeyValuePair<TKey, TValue>>, ILeaseOwner
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, CacheNode<TKey, TValue>> _map;
    private readonly IEqualityComparer<TKey>? _comparer;
    private readonly CacheCounters _counters;
    private readonly IDisposable _registration;
    private readonly Func<TKey, TValue, long>? _weigher;
    private readonly TimeProvider _timeProvider;
    private readonly long _expireAfterWriteTicks;
    private readonly long _expireAfterAccessTicks;
    private readonly bool _expires;
    private readonly bool _disposeValues;
    private readonly Dictionary<object, LeaseState>? _leases;
    private EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>[] _handlers = [];
    private ConcurrentDictionary<TKey, TaskCompletionSource<TValue>>? _loads;
    private volatile bool _disposed;

    /// <summary>Initializes a new cache from <paramref name="options"/> (which are copied).</summary>
    /// <param name="options">The options; at least one bound must be set.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">Neither <c>MaximumCount</c> nor <c>MaximumWeight</c> is set.</exception>
    public BoundedCache(BoundedCacheOptions<TKey, TValue> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Name = options.Name;
        MaximumCount = options.MaximumCount;
        MaximumWeight = options.MaximumWeight;
        _weigher = options.Weigher;
        // A null comparer (not EqualityComparer.Default) lets ConcurrentDictionary take its devirtualized default-comparer
        // path for value-type keys and its non-randomized string comparer for string keys: both are on every hit.
        _comparer = options.KeyComparer;
        _map = new ConcurrentDictionary<TKey, CacheNode<TKey, TValue>>(_comparer);
        _timeProvider = options.TimeProvider;
        _expireAfterWriteTicks = options.ExpireAfterWrite?.Ticks ?? TimedCacheNode<TKey, TValue>.NoLimit;
        _expireAfterAccessTicks = options.ExpireAfterAccess?.Ticks ?? TimedCacheNode<TKey, TValue>.NoLimit;
        _expires = options.ExpireAfterWrite is not null || options.ExpireAfterAccess is not null;
        _disposeValues = options.DisposeRemovedValues;
        _leases = _disposeValues ? new Dictionary<object, LeaseState>(ReferenceEqualityComparer.Instance) : null;
        _head = new CacheNode<TKey, TValue>(default!, default!);
        _head.Next = _head;
        _head.Prev = _head;
        _counters = new CacheCounters(MaximumCount, MaximumWeight);
        _registration = CacheCounters.Registry(SafeMemMeter.Resolve(options.MeterFactory)).Register(_counters, Name);
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

        CacheNode<TKey, TValue> node = NewNode(key, value, Weigh(key, value), ownExpiry: false);
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
    /// the caller, who then owns it: the cache does not dispose it.
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
            while (_head.Next != _head)
            {
                RemoveLocked(_head.Next!, RemovalReason.Cleared, ref removals);
            }

            _counters.Reads.Clear();
        }

        Publish(removals);
    }

    /// <summary>Looks up <paramref name="key"/> and, on a hit, leases the value so the cache defers disposing it until the lease is disposed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease when found; dispose it when done with the value.</param>
    /// <returns><see langword="true"/> if a live entry was found and leased.</returns>
    /// <remarks>Counts as a lookup and makes the entry the most recently used, like <see cref="TryGet"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryLease(TKey key, [NotNullWhen(true)] out CacheLease<TValue>? lease)
    {
        lease = null;
        if (!TryGetNode(key, out CacheNode<TKey, TValue>? node))
        {
            return false;
        }

        if (_leases is { } leases)
        {
            lock (leases)
            {
                // Removal unlinks under the policy lock, then checks leases under this lock: seeing the node linked here
                // means the removal's check comes later and will see this lease; seeing it unlinked means it is leaving.
                if (!node.IsLinked)
                {
                    return false;
                }

                if (!leases.TryGetValue(node, out LeaseState? state))
                {
                    state = new LeaseState();
                    leases.Add(node, state);
                }

                state.Count++;
            }
        }

        lease = new CacheLease<TValue>(this, node, node.Value);
        return true;
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
        List<KeyValuePair<TKey, TValue>> snapshot;
        lock (_lock)
        {
            ThrowIfDisposed();
            DrainReadsLocked();
            long now = _writeFirst is null ? 0 : Now();
            snapshot = new List<KeyValuePair<TKey, TValue>>((int)_counters.EntryCount);
            for (CacheNode<TKey, TValue> node = _head.Next!; node != _head; node = node.Next!)
            {
                if (node is not TimedCacheNode<TKey, TValue> timed || !timed.IsExpired(now))
                {
                    snapshot.Add(new KeyValuePair<TKey, TValue>(node.Key, node.Value));
                }
            }
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
            _counters.Reads.Clear();
            for (CacheNode<TKey, TValue> node = _head.Next!; node != _head;)
            {
                CacheNode<TKey, TValue> next = node.Next!;
                node.Prev = null;
                node.Next = null;
                if (node is TimedCacheNode<TKey, TValue> timed)
                {
                    timed.WritePrev = null;
                    timed.WriteNext = null;
                }

                if (_disposeValues && node.Value is IDisposable)
                {
                    (removals ??= []).Add(new PendingRemoval(node, RemovalReason.Cleared, Dispose: true));
                }

                node = next;
            }

            _head.Next = _head;
            _head.Prev = _head;
            _writeFirst = null;
            _writeLast = null;
            _scanHand = null;
            _ownExpiryCount = 0;
            _map.Clear();
            _counters.EntryCount = 0;
            _counters.Weight = 0;
            _handlers = [];
        }

        _registration.Dispose();
        Publish(removals, raiseEvents: false);
    }

    void ILeaseOwner.Release(object node)
    {
        Dictionary<object, LeaseState>? leases = _leases;
        if (leases is null)
        {
            return;
        }

        bool disposeNow = false;
        lock (leases)
        {
            if (leases.TryGetValue(node, out LeaseState? state) && --state.Count == 0)
            {
                leases.Remove(node);
                disposeNow = state.Left;
            }
        }

        if (disposeNow && ((CacheNode<TKey, TValue>)node).Value is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryGetNode(TKey key, [NotNullWhen(true)] out CacheNode<TKey, TValue>? node)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        // A hit is counted where it is recorded (Touch, in the read buffer).
        if (_map.TryGetValue(key, out node) && Touch(node))
        {
            return true;
        }

        _counters.Misses.Increment();
        node = null;
        return false;
    }

    /// <summary>Records a read of a found node; returns false (and purges it) when it has expired.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Touch(CacheNode<TKey, TValue> node)
    {
        if (node is TimedCacheNode<TKey, TValue> timed && !TouchTimed(timed))
        {
            return false;
        }

        // The front check reads the list without the lock: a stale answer only records or skips one recency update. It
        // asks the node (whose line this read loads anyway for the value) rather than the sentinel, whose line every
        // write and drain on another core invalidates.
        if (!_counters.Reads.Add(node, alreadyFirst: node.Prev == _head))
        {
            OnReadStripeFull(node);
        }

        return true;
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
        if (_map.TryGetValue(key, out CacheNode<TKey, TValue>? node)
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

    private CacheNode<TKey, TValue> NewNode(TKey key, TValue value, long weight, bool ownExpiry)
    {
        if (_expires || ownExpiry)
        {
            return new TimedCacheNode<TKey, TValue>(key, value, weight);
        }

        return weight == 1 ? new CacheNode<TKey, TValue>(key, value) : new WeightedCacheNode<TKey, TValue>(key, value, weight);
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

    private sealed class LeaseState
    {
        public int Count;

        /// <summary>The entry left the cache while leased: the last release disposes the value.</summary>
        public bool Left;
    }
}
