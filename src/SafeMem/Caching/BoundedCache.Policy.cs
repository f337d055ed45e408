using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace SafeMem.Caching;

/// <summary>The policy side: the recency heap, the write-order list, weights, eviction and expiry, all under one lock.</summary>
public sealed partial class BoundedCache<TKey, TValue>
{
    // Guards the table's links, the heap, the write list, the weights and counts; readers never take it (except to
    // purge an expired entry they found, or to look again after missing while the table grew).
    private readonly object _lock = new();

    // Every entry, in the policy's order: exact recency for one thread (LRU; stamps brought up to date lazily, see
    // RecencyOrder), or W-TinyLFU's segments (TinyLfuOrder). See BoundedCache.TinyLfu.cs.
    private readonly EntryOrder<TKey, TValue> _recency;

    // Timed nodes in write order (oldest first). With a constant ExpireAfterWrite, deadlines follow this order.
    private TimedCacheNode<TKey, TValue>? _writeFirst;
    private TimedCacheNode<TKey, TValue>? _writeLast;

    // Timed nodes that can expire after access or by their own expiry, by deadline (created with the first of them): the
    // purge finds every such entry that expired, whatever order the eviction policy keeps.
    private ExpiryHeap<TKey, TValue>? _expiry;

    /// <summary>
    /// Stores <paramref name="value"/> with per-entry settings (the <c>IMemoryCache</c> adapter's hook). The weight
    /// overrides the weigher; per-entry expiry applies on top of the cache-wide times to live, earliest wins; sliding
    /// expiry is refreshed by reads. An entry whose absolute expiration is already past is not stored (reason Expired;
    /// an entry it would have replaced leaves with reason Replaced). <paramref name="stored"/> runs when the entry was
    /// admitted, after the write and before its removals are published, so that it runs even when a handler throws.
    /// </summary>
    internal void Set(TKey key, TValue value, in CacheEntryPolicy policy, Action<TValue>? stored = null)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        long weight;
        if (policy.Weight is long given)
        {
            if (given < 0)
            {
                ThrowNegativeWeight(key, given);
            }

            weight = given;
        }
        else
        {
            weight = Weigh(key, value);
        }

        if (policy.SlidingExpiration is TimeSpan sliding)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sliding, TimeSpan.Zero, "policy.SlidingExpiration");
        }

        bool ownExpiry = policy.AbsoluteExpiration is not null || policy.SlidingExpiration is not null;
        CacheNode<TKey, TValue> node = NewNode(key, value, HashOf(key), weight, ownExpiry);
        List<PendingRemoval>? removals = null;
        RemovalReason? refusal;
        lock (_lock)
        {
            ThrowIfDisposed();
            refusal = SetLocked(node, policy, ref removals);
        }

        if (stored is not null && refusal is null)
        {
            try
            {
                stored(value);
            }
            catch (Exception ex)
            {
                PublishAfter(ex, removals);
                throw;
            }
        }

        Publish(removals);
    }

    /// <summary>
    /// Removes the entry for <paramref name="key"/>, expired or not, reporting <paramref name="reason"/> (the
    /// <c>IMemoryCache</c> adapter's <c>Remove</c>, which reports Removed for an expired entry as <c>MemoryCache</c> does).
    /// </summary>
    internal bool Remove(TKey key, RemovalReason reason)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        List<PendingRemoval>? removals = null;
        bool removed = false;
        lock (_lock)
        {
            ThrowIfDisposed();

            // As every other removal does: no ring keeps a record of the node once it is removed.
            DrainReadsLocked();
            if (FindLocked(key, HashOf(key)) is { } node)
            {
                RemoveLocked(node, reason, ref removals);
                removed = true;
            }
        }

        Publish(removals);
        return removed;
    }

    /// <summary>
    /// Removes the entry for <paramref name="key"/> only if it holds <paramref name="expectedValue"/> (reference
    /// equality for reference types), reporting <paramref name="reason"/>.
    /// </summary>
    internal bool TryRemove(TKey key, TValue expectedValue, RemovalReason reason)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        List<PendingRemoval>? removals = null;
        bool removed = false;
        lock (_lock)
        {
            ThrowIfDisposed();
            DrainReadsLocked();
            if (FindLocked(key, HashOf(key)) is { } node && SameValue(node.Value, expectedValue))
            {
                RemoveLocked(node, reason, ref removals);
                removed = true;
            }
        }

        Publish(removals);
        return removed;
    }

    /// <summary>
    /// The <c>IMemoryCache</c> adapter's hook: a lookup this thread just counted as a hit found an entry that must not be
    /// returned after all (a polling change token had fired), so it is counted as a miss instead.
    /// </summary>
    internal void CountHitAsMiss() => _counters.RetractHit();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SameValue(TValue current, TValue expected)
        => typeof(TValue).IsValueType
            ? EqualityComparer<TValue>.Default.Equals(current, expected)
            : ReferenceEquals(current, expected);

    private bool TryRemoveCore(TKey key, bool handOver, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value)
    {
        ThrowIfDisposed();
        ThrowIfKeyNull(key);
        value = default;
        if (Find(key) is null)
        {
            return false;
        }

        List<PendingRemoval>? removals = null;
        bool removed = false;
        lock (_lock)
        {
            ThrowIfDisposed();
            DrainReadsLocked();
            if (FindLocked(key, HashOf(key)) is { } node)
            {
                if (node is TimedCacheNode<TKey, TValue> timed && timed.IsExpired(Now()))
                {
                    RemoveLocked(node, RemovalReason.Expired, ref removals);
                }
                else
                {
                    RemoveLocked(node, RemovalReason.Removed, ref removals, handOver: handOver);
                    value = node.Value;
                    removed = true;
                }
            }
        }

        Publish(removals);
        return removed;
    }

    /// <summary>
    /// The whole write: replace, admit or reject, purge expired entries, evict, link. Under the lock. Returns why the entry
    /// was not stored (Rejected, Expired), or null when it was.
    /// </summary>
    private RemovalReason? SetLocked(CacheNode<TKey, TValue> node, in CacheEntryPolicy policy, ref List<PendingRemoval>? removals)
    {
        // Hits recorded before this write come first (TinyLfu; on one thread that keeps the policy's order exact).
        DrainReadsLocked();
        long now = 0;
        if (node is TimedCacheNode<TKey, TValue> timed)
        {
            now = Now();
            InitializeTimes(timed, now, policy);
            if (timed.HasOwnExpiry && (_hitFlags & MayExpireFlag) == 0)
            {
                // From now on hits check node types for expiry (a cache without cache-wide expiry skips that check).
                Volatile.Write(ref _hitFlags, _hitFlags | MayExpireFlag);
            }
        }
        else if (_writeFirst is not null)
        {
            now = Now();
        }

        // A write starts a new epoch: its stamp is newer than every read before it, on this thread and on others.
        node.Stamp = _clock.Write();
        CacheNode<TKey, TValue>? old = FindLocked(node.Key, node.Hash);
        long weight = node.Weight;

        // Checked before anything changes, so an overflowing write fails whole. With a weight bound no sum can overflow:
        // each weight is at most the bound, and eviction compares against (bound - weight).
        if (MaximumWeight is null && _counters.Weight - (old?.Weight ?? 0) > long.MaxValue - weight)
        {
            ThrowWeightOverflow(node.Key, weight);
        }

        RemovalReason? refusal = MaximumWeight is long maximum && weight > maximum
            ? RemovalReason.Rejected
            : node is TimedCacheNode<TKey, TValue> t && t.IsExpired(now) ? RemovalReason.Expired : null;

        // The new entry holds its value before anything lets go, so replacing or evicting an entry that holds the same
        // instance (this key's, or another key's) does not dispose it.
        bool sameInstance = old is not null && SameValue(old.Value, node.Value);
        if (refusal is null)
        {
            HoldEntryLocked(node.Value);
        }

        if (old is not null)
        {
            // When the new node is admitted it takes the old one's place in the table below instead of the key going
            // missing meanwhile, so a concurrent reader sees the old value or the new one, never a spurious miss. A
            // refused write of the very instance stored hands it back to the caller rather than disposing it.
            RemoveLocked(old, RemovalReason.Replaced, ref removals, handOver: refusal is not null && sameInstance, keepInTable: refusal is null);
        }

        if (refusal is RemovalReason reason)
        {
            CountRemoval(reason);

            // The cache owns what it is given, so a refused value is disposed once nothing else holds that instance
            // (another key, a lease, the load that produced it, a removal still publishing), unless it was the stored
            // instance handed back above.
            bool publishing = HasHandlers();
            bool held = false;
            bool dispose = !sameInstance && TakeRefusedLocked(node.Value, publishing, out held);
            AddPending(ref removals, node, reason, dispose, held, publishing);
            return reason;
        }

        PurgeExpiredLocked(now, ref removals);

        if (_lru is { } lru)
        {
            while (MustEvict(weight) && lru.LeastRecent() is { } victim)
            {
                RemoveLocked(victim, RemovalReason.Evicted, ref removals);
            }

            lru.Add(node);
        }
        else
        {
            AdmitTinyLfuLocked(_lfu!, node, ref removals);
        }

        if (node is TimedCacheNode<TKey, TValue> timedNode)
        {
            AppendToWriteList(timedNode);
            if (ExpiryHeap<TKey, TValue>.Tracks(timedNode))
            {
                (_expiry ??= new ExpiryHeap<TKey, TValue>()).Add(timedNode);
            }
        }

        if (old is not null)
        {
            ReplaceLocked(old, node);
        }
        else
        {
            InsertLocked(node);
        }

        _counters.EntryCount++;
        _counters.Weight += weight;
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MustEvict(long weight)
        => (MaximumCount is int maxCount && _counters.EntryCount >= maxCount)
            || (MaximumWeight is long maxWeight && _counters.Weight > maxWeight - weight);

    private void InitializeTimes(TimedCacheNode<TKey, TValue> node, long now, in CacheEntryPolicy policy)
    {
        node.LastAccess = now;
        long deadline = _expireAfterWriteTicks == TimedCacheNode<TKey, TValue>.NoLimit
            ? TimedCacheNode<TKey, TValue>.NoLimit
            : SaturatingAdd(now, _expireAfterWriteTicks);
        if (policy.AbsoluteExpiration is DateTimeOffset absolute)
        {
            deadline = Math.Min(deadline, absolute.UtcTicks);
        }

        node.WriteDeadline = deadline;
        node.AccessTimeToLive = policy.SlidingExpiration is TimeSpan sliding
            ? Math.Min(_expireAfterAccessTicks, sliding.Ticks)
            : _expireAfterAccessTicks;
        node.HasOwnExpiry = policy.AbsoluteExpiration is not null || policy.SlidingExpiration is not null;
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    /// <summary>
    /// Removes every expired entry, at a cost proportional to what it removes: entries expired after write (constant time
    /// to live) form a prefix of the write list; every entry that can expire after access or by its own expiry sits in
    /// the expiry heap by deadline, whose keys are brought up to date lazily (O(log n) per entry removed or read since
    /// it was keyed). The eviction order is not consulted: it is not an order of deadlines under TinyLfu or per-entry
    /// times to live.
    /// </summary>
    private void PurgeExpiredLocked(long now, ref List<PendingRemoval>? removals)
    {
        if (_writeFirst is null)
        {
            return;
        }

        while (_writeFirst is { } oldest && oldest.IsExpired(now))
        {
            RemoveLocked(oldest, RemovalReason.Expired, ref removals);
        }

        while (_expiry?.NextExpired(now) is { } expired)
        {
            RemoveLocked(expired, RemovalReason.Expired, ref removals);
        }
    }

    private void RemoveLocked(
        CacheNode<TKey, TValue> node,
        RemovalReason reason,
        ref List<PendingRemoval>? removals,
        bool handOver = false,
        bool keepInTable = false)
    {
        _recency.Remove(node);
        if (node is TimedCacheNode<TKey, TValue> timed)
        {
            RemoveFromWriteList(timed);
            _expiry?.Remove(timed);
        }

        if (!keepInTable)
        {
            UnlinkLocked(node);
        }

        _counters.EntryCount--;
        _counters.Weight -= node.Weight;
        CountRemoval(reason);

        // With handlers to run, the removal holds its value until they have run (see BoundedCache.Ownership.cs).
        bool publishing = HasHandlers();
        bool dispose = ReleaseEntryLocked(node.Value, handOver, publishing, out bool held);
        AddPending(ref removals, node, reason, dispose, held, publishing);
    }

    private void CountRemoval(RemovalReason reason) => _counters.Removals[(int)reason]++;

    private bool HasHandlers() => Volatile.Read(ref _handlers).Length > 0;

    private static void AddPending(
        ref List<PendingRemoval>? removals,
        CacheNode<TKey, TValue> node,
        RemovalReason reason,
        bool dispose,
        bool held,
        bool publishing)
    {
        if (dispose || publishing)
        {
            (removals ??= []).Add(new PendingRemoval(node, reason, dispose, held));
        }
    }

    private void AppendToWriteList(TimedCacheNode<TKey, TValue> node)
    {
        node.WritePrev = _writeLast;
        node.WriteNext = null;
        if (_writeLast is null)
        {
            _writeFirst = node;
        }
        else
        {
            _writeLast.WriteNext = node;
        }

        _writeLast = node;
    }

    private void RemoveFromWriteList(TimedCacheNode<TKey, TValue> node)
    {
        if (node.WritePrev is null)
        {
            _writeFirst = node.WriteNext;
        }
        else
        {
            node.WritePrev.WriteNext = node.WriteNext;
        }

        if (node.WriteNext is null)
        {
            _writeLast = node.WritePrev;
        }
        else
        {
            node.WriteNext.WritePrev = node.WritePrev;
        }

        node.WritePrev = null;
        node.WriteNext = null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ExpireOnRead(TimedCacheNode<TKey, TValue> node)
    {
        List<PendingRemoval>? removals = null;
        lock (_lock)
        {
            // Another thread may have purged or replaced it since this reader found it.
            if (!_disposed && node.IsLinked)
            {
                DrainReadsLocked();
                RemoveLocked(node, RemovalReason.Expired, ref removals);
            }
        }

        Publish(removals);
    }

    /// <summary>
    /// Publishes <paramref name="removals"/> after <paramref name="first"/> was thrown by work that had to run between
    /// the write and its publication; the caller rethrows <paramref name="first"/>, or this throws both.
    /// </summary>
    private void PublishAfter(Exception first, List<PendingRemoval>? removals)
    {
        try
        {
            Publish(removals);
        }
        catch (Exception ex)
        {
            throw new AggregateException("Several callbacks threw; the cache operation itself completed.", first, ex);
        }
    }

    /// <summary>
    /// Raises <see cref="EntryRemoved"/> for every removal, then ends the holds the removals took on their values and
    /// disposes the values nothing holds any more, outside every lock; runs all, then throws what they threw.
    /// </summary>
    private void Publish(List<PendingRemoval>? removals, bool raiseEvents = true)
    {
        if (removals is null)
        {
            return;
        }

        List<Exception>? errors = null;
        bool anyHeld = false;
        EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>[] handlers = raiseEvents ? Volatile.Read(ref _handlers) : [];
        foreach (PendingRemoval removal in removals)
        {
            anyHeld |= removal.Held;
            if (handlers.Length > 0)
            {
                var args = new CacheEntryRemovedEventArgs<TKey, TValue>(removal.Node.Key, removal.Node.Value, removal.Reason);
                foreach (EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>> handler in handlers)
                {
                    try
                    {
                        handler(this, args);
                    }
                    catch (Exception ex)
                    {
                        (errors ??= []).Add(ex);
                    }
                }
            }
        }

        // Every handler has run (the held values stayed undisposed meanwhile, whatever other threads released). One
        // lock for the whole batch: the holds end together, and each value whose hold was its last is disposed below.
        if (anyHeld)
        {
            EndPublication(removals);
        }

        foreach (PendingRemoval removal in removals)
        {
            if (removal.Dispose && removal.Node.Value is IDisposable disposable)
            {
                try
                {
                    // Decided under the lock: no entry, lease or publishing removal holds the value any more.
                    disposable.Dispose();
                }
                catch (Exception ex)
                {
                    (errors ??= []).Add(ex);
                }
            }
        }

        if (errors is not null)
        {
            if (errors.Count == 1)
            {
                ExceptionDispatchInfo.Throw(errors[0]);
            }

            throw new AggregateException("Several EntryRemoved handlers or value disposals threw; the cache operation itself completed.", errors);
        }
    }

    /// <summary>
    /// For tests: checks, under the lock, that the map, both lists and the counters agree. Returns a description of the
    /// first inconsistency, or null.
    /// </summary>
    internal string? FindInconsistency()
    {
        lock (_lock)
        {
            if ((FindTableInconsistencyLocked() ?? _recency.FindInconsistency() ?? FindHoldsInconsistencyLocked()) is { } broken)
            {
                return broken;
            }

            long weight = 0;
            int timed = 0, tracked = 0;
            foreach (CacheNode<TKey, TValue> node in _recency.ToList())
            {
                weight += node.Weight;
                timed += node is TimedCacheNode<TKey, TValue> ? 1 : 0;
                tracked += node is TimedCacheNode<TKey, TValue> t && ExpiryHeap<TKey, TValue>.Tracks(t) ? 1 : 0;
            }

            if (_expiry?.FindInconsistency() is { } brokenHeap)
            {
                return brokenHeap;
            }

            int written = 0;
            for (TimedCacheNode<TKey, TValue>? node = _writeFirst; node is not null; node = node.WriteNext)
            {
                written++;
                if (!node.IsLinked)
                {
                    return $"key {node.Key} is in the write list but not in the cache";
                }
            }

            return _recency.Count != _counters.EntryCount ? $"recency order holds {_recency.Count} nodes, EntryCount is {_counters.EntryCount}"
                : weight != _counters.Weight ? $"nodes weigh {weight}, Weight is {_counters.Weight}"
                : written != timed ? $"write list holds {written} nodes, {timed} timed nodes are linked"
                : (_expiry?.Count ?? 0) != tracked ? $"expiry heap holds {_expiry?.Count ?? 0} nodes, {tracked} nodes can expire after access or by their own expiry"
                : null;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowWeightOverflow(TKey key, long weight)
        => throw new OverflowException($"Adding the entry for key '{key}' (weight {weight}) would overflow the cache's total weight. Nothing was stored.");

    /// <summary>Ends the holds of the held removals in <paramref name="removals"/>, marking those whose value is now to be disposed.</summary>
    private void EndPublication(List<PendingRemoval> removals)
    {
        lock (_lock)
        {
            for (int i = 0; i < removals.Count; i++)
            {
                PendingRemoval removal = removals[i];
                if (removal.Held)
                {
                    removals[i] = removal with { Dispose = EndPublicationLocked(removal.Node.Value), Held = false };
                }
            }
        }
    }

    /// <summary>
    /// A removal to publish: its handlers run, then its value is disposed if <see cref="Dispose"/> (decided under the lock
    /// when it was removed), or, if <see cref="Held"/> (the removal holds the value while its handlers run), when ending
    /// that hold finds no other holder.
    /// </summary>
    private readonly record struct PendingRemoval(CacheNode<TKey, TValue> Node, RemovalReason Reason, bool Dispose, bool Held = false);
}
