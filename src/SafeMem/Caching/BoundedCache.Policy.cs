using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace SafeMem.Caching;

/// <summary>The policy side: the LRU list, the write-order list, weights, eviction and expiry, all under one lock.</summary>
public sealed partial class BoundedCache<TKey, TValue>
{
    // How many entries with their own (per-entry) expiry a write examines, beyond the cache-wide purge.
    private const int OwnExpiryScanBudget = 4;

    // Guards the lists, the weights and every map mutation; readers never take it (except to drain a full stripe,
    // with TryEnter, or to purge an expired entry they found).
    private readonly object _lock = new();

    // Sentinel of the circular LRU list: _head.Next is the most recently used, _head.Prev the least.
    private readonly CacheNode<TKey, TValue> _head;

    // Timed nodes in write order (oldest first). With a constant ExpireAfterWrite, deadlines follow this order.
    private TimedCacheNode<TKey, TValue>? _writeFirst;
    private TimedCacheNode<TKey, TValue>? _writeLast;

    // Where the amortized scan for per-entry expiry resumes in the write list.
    private TimedCacheNode<TKey, TValue>? _scanHand;
    private int _ownExpiryCount;

    /// <summary>
    /// Stores <paramref name="value"/> with per-entry settings (the <c>IMemoryCache</c> adapter's hook). The weight
    /// overrides the weigher; per-entry expiry applies on top of the cache-wide times to live, earliest wins; sliding
    /// expiry is refreshed by reads. An entry whose absolute expiration is already past is not stored (reason Expired).
    /// </summary>
    internal void Set(TKey key, TValue value, in CacheEntryPolicy policy)
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
        CacheNode<TKey, TValue> node = NewNode(key, value, weight, ownExpiry);
        List<PendingRemoval>? removals = null;
        lock (_lock)
        {
            ThrowIfDisposed();
            SetLocked(node, policy, ref removals);
        }

        Publish(removals);
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
            if (_map.TryGetValue(key, out CacheNode<TKey, TValue>? node) && SameValue(node.Value, expectedValue))
            {
                DrainReadsLocked();
                RemoveLocked(node, reason, ref removals);
                removed = true;
            }
        }

        Publish(removals);
        return removed;
    }

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
        if (!_map.ContainsKey(key))
        {
            return false;
        }

        List<PendingRemoval>? removals = null;
        bool removed = false;
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_map.TryGetValue(key, out CacheNode<TKey, TValue>? node))
            {
                // Drain first so the read buffer does not keep the removed node (and its value) reachable.
                DrainReadsLocked();
                if (node is TimedCacheNode<TKey, TValue> timed && timed.IsExpired(Now()))
                {
                    RemoveLocked(node, RemovalReason.Expired, ref removals);
                }
                else
                {
                    RemoveLocked(node, RemovalReason.Removed, ref removals, disposeValue: !handOver);
                    value = node.Value;
                    removed = true;
                }
            }
        }

        Publish(removals);
        return removed;
    }

    /// <summary>The whole write: replace, admit or reject, purge expired entries, evict, link. Under the lock.</summary>
    private void SetLocked(CacheNode<TKey, TValue> node, in CacheEntryPolicy policy, ref List<PendingRemoval>? removals)
    {
        // The caller's own earlier reads must go before its new entry (single-threaded order stays exact). Other
        // threads' stripes are drained only when this write evicts (below): reading them here, on every write, pulls
        // the cache lines their owners are writing into this core while holding the lock, which made two threads
        // slower than one. Their reads are concurrent with this write, so applying them later is a valid order.
        DrainOwnReadsLocked();
        long now = 0;
        if (node is TimedCacheNode<TKey, TValue> timed)
        {
            now = Now();
            InitializeTimes(timed, now, policy);
        }
        else if (_writeFirst is not null)
        {
            now = Now();
        }

        _map.TryGetValue(node.Key, out CacheNode<TKey, TValue>? old);
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

        if (old is not null)
        {
            // When the new node is admitted the map slot is overwritten below instead of emptied, so a concurrent
            // reader sees the old value or the new one, never a spurious miss.
            RemoveLocked(old, RemovalReason.Replaced, ref removals, disposeValue: !SameValue(old.Value, node.Value), keepMapSlot: refusal is null);
        }

        if (refusal is RemovalReason reason)
        {
            CountRemoval(reason);
            AddPending(ref removals, node, reason, disposeValue: true);
            return;
        }

        if (_writeFirst is not null || MustEvict(weight))
        {
            // Every recorded read counts before choosing a victim or purging by access order, and no stripe keeps a
            // victim or an expired entry reachable. (Counted before the purge: at worst a purge makes this drain moot.)
            DrainReadsLocked();
        }

        PurgeExpiredLocked(now, ref removals);

        while ((MaximumCount is int maxCount && _counters.EntryCount >= maxCount)
            || (MaximumWeight is long maxWeight && _counters.Weight > maxWeight - weight))
        {
            CacheNode<TKey, TValue> victim = _head.Prev!;
            if (victim == _head)
            {
                break;
            }

            RemoveLocked(victim, RemovalReason.Evicted, ref removals);
        }

        LinkFront(node);
        if (node is TimedCacheNode<TKey, TValue> timedNode)
        {
            AppendToWriteList(timedNode);
        }

        _map[node.Key] = node;
        _counters.EntryCount++;
        _counters.Weight += weight;
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
    /// Removes every entry expired by the cache-wide times to live, at a cost proportional to what it removes:
    /// write-expired entries form a prefix of the write list (constant time to live), access-expired ones a suffix of
    /// the LRU list (after the drain, list order is access order). Entries with their own expiry do not follow either
    /// order; a few of them are examined per write, and reads purge any they find.
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

        while (_head.Prev is TimedCacheNode<TKey, TValue> coldest && coldest.IsExpired(now))
        {
            RemoveLocked(coldest, RemovalReason.Expired, ref removals);
        }

        if (_ownExpiryCount > 0)
        {
            for (int i = 0; i < OwnExpiryScanBudget && _writeFirst is not null; i++)
            {
                TimedCacheNode<TKey, TValue> candidate = _scanHand ?? _writeFirst;
                _scanHand = candidate.WriteNext;
                if (candidate.IsExpired(now))
                {
                    RemoveLocked(candidate, RemovalReason.Expired, ref removals);
                }
            }
        }
    }

    private void RemoveLocked(
        CacheNode<TKey, TValue> node,
        RemovalReason reason,
        ref List<PendingRemoval>? removals,
        bool disposeValue = true,
        bool keepMapSlot = false)
    {
        node.Prev!.Next = node.Next;
        node.Next!.Prev = node.Prev;
        node.Prev = null;
        node.Next = null;
        if (node is TimedCacheNode<TKey, TValue> timed)
        {
            RemoveFromWriteList(timed);
        }

        if (!keepMapSlot)
        {
            // Only this exact node: the pair overload compares the node by reference.
            _map.TryRemove(new KeyValuePair<TKey, CacheNode<TKey, TValue>>(node.Key, node));
        }

        _counters.EntryCount--;
        _counters.Weight -= node.Weight;
        CountRemoval(reason);
        AddPending(ref removals, node, reason, disposeValue);
    }

    private void CountRemoval(RemovalReason reason)
    {
        switch (reason)
        {
            case RemovalReason.Evicted:
                _counters.Evicted++;
                break;
            case RemovalReason.Expired:
                _counters.Expired++;
                break;
            case RemovalReason.Rejected:
                _counters.Rejected++;
                break;
            default:
                _counters.Removed++;
                break;
        }
    }

    private void AddPending(ref List<PendingRemoval>? removals, CacheNode<TKey, TValue> node, RemovalReason reason, bool disposeValue)
    {
        bool dispose = disposeValue && _disposeValues && node.Value is IDisposable;
        if (dispose || Volatile.Read(ref _handlers).Length > 0)
        {
            (removals ??= []).Add(new PendingRemoval(node, reason, dispose));
        }
    }

    private void LinkFront(CacheNode<TKey, TValue> node)
    {
        CacheNode<TKey, TValue> first = _head.Next!;
        node.Prev = _head;
        node.Next = first;
        first.Prev = node;
        _head.Next = node;
    }

    private void MoveToFrontLocked(CacheNode<TKey, TValue> node)
    {
        // A recorded read of a node that left meanwhile (replaced, evicted, removed) is simply dropped.
        if (!node.IsLinked || _head.Next == node)
        {
            return;
        }

        node.Prev!.Next = node.Next;
        node.Next!.Prev = node.Prev;
        LinkFront(node);
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
        if (node.HasOwnExpiry)
        {
            _ownExpiryCount++;
        }
    }

    private void RemoveFromWriteList(TimedCacheNode<TKey, TValue> node)
    {
        if (_scanHand == node)
        {
            _scanHand = node.WriteNext;
        }

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
        if (node.HasOwnExpiry)
        {
            _ownExpiryCount--;
        }
    }

    private void DrainOwnReadsLocked()
    {
        var applier = new RecencyApplier(_head);
        _counters.Reads.DrainCurrentThread(ref applier);
        applier.Complete();
    }

    private void DrainReadsLocked()
    {
        var applier = new RecencyApplier(_head);
        _counters.Reads.Drain(ref applier);
        applier.Complete();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OnReadStripeFull(CacheNode<TKey, TValue> node)
    {
        // Lossy by design: if a writer holds the lock, this read's recency update is dropped rather than waited for.
        // A single thread never finds the lock taken, so single-threaded order stays exact.
        if (!Monitor.TryEnter(_lock))
        {
            return;
        }

        try
        {
            if (!_disposed)
            {
                DrainReadsLocked();
                MoveToFrontLocked(node);
            }
        }
        finally
        {
            Monitor.Exit(_lock);
        }
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
                RemoveLocked(node, RemovalReason.Expired, ref removals);
            }
        }

        Publish(removals);
    }

    /// <summary>Raises <see cref="EntryRemoved"/> and disposes values, outside every lock; runs all, then throws what they threw.</summary>
    private void Publish(List<PendingRemoval>? removals, bool raiseEvents = true)
    {
        if (removals is null)
        {
            return;
        }

        List<Exception>? errors = null;
        EventHandler<CacheEntryRemovedEventArgs<TKey, TValue>>[] handlers = raiseEvents ? Volatile.Read(ref _handlers) : [];
        foreach (PendingRemoval removal in removals)
        {
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

            if (removal.Dispose)
            {
                try
                {
                    DisposeLeavingValue(removal.Node);
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

    private void DisposeLeavingValue(CacheNode<TKey, TValue> node)
    {
        if (node.Value is not IDisposable disposable)
        {
            return;
        }

        if (_leases is { } leases)
        {
            lock (leases)
            {
                if (leases.TryGetValue(node, out LeaseState? state))
                {
                    // The last lease to be released disposes it (ILeaseOwner.Release).
                    state.Left = true;
                    return;
                }
            }
        }

        disposable.Dispose();
    }

    /// <summary>
    /// For tests: checks, under the lock, that the map, both lists and the counters agree. Returns a description of the
    /// first inconsistency, or null.
    /// </summary>
    internal string? FindInconsistency()
    {
        lock (_lock)
        {
            DrainReadsLocked();
            long count = 0;
            long weight = 0;
            int timed = 0;
            for (CacheNode<TKey, TValue> node = _head.Next!; node != _head; node = node.Next!)
            {
                if (node.Next!.Prev != node)
                {
                    return $"broken LRU link after key {node.Key}";
                }

                if (!_map.TryGetValue(node.Key, out CacheNode<TKey, TValue>? mapped) || mapped != node)
                {
                    return $"key {node.Key} is in the LRU list but the map holds another node";
                }

                count++;
                weight += node.Weight;
                timed += node is TimedCacheNode<TKey, TValue> ? 1 : 0;
            }

            int written = 0;
            for (TimedCacheNode<TKey, TValue>? node = _writeFirst; node is not null; node = node.WriteNext)
            {
                written++;
                if (!node.IsLinked)
                {
                    return $"key {node.Key} is in the write list but not in the LRU list";
                }
            }

            return count != _map.Count ? $"list holds {count} nodes, map {_map.Count}"
                : count != _counters.EntryCount ? $"list holds {count} nodes, EntryCount is {_counters.EntryCount}"
                : weight != _counters.Weight ? $"nodes weigh {weight}, Weight is {_counters.Weight}"
                : written != timed ? $"write list holds {written} nodes, {timed} timed nodes are linked"
                : null;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowWeightOverflow(TKey key, long weight)
        => throw new OverflowException($"Adding the entry for key '{key}' (weight {weight}) would overflow the cache's total weight. Nothing was stored.");

    /// <summary>
    /// Applies a batch of recorded reads under the policy lock (the buffer only ever holds this cache's nodes), moving
    /// each to the front. The batch keeps the front in a local and fixes the sentinel's link and the front's back link
    /// once, in <see cref="Complete"/>: that saves two of the six reference stores (each a GC write barrier) per read.
    /// </summary>
    /// <remarks>
    /// Between the first move and <see cref="Complete"/>, only <c>_head.Next</c> and <c>_front.Prev</c> are stale; every
    /// other link is exact, so an unlink (of a node that is not the front) is correct. Lock-free readers only compare
    /// <c>node.Prev</c> with the sentinel (no node wrongly appears first: the stale back link is the moved node's old
    /// neighbour) and test <c>Next</c> for null (never nulled here).
    /// </remarks>
    private struct RecencyApplier(CacheNode<TKey, TValue> head) : ReadBuffer.IApplier
    {
        private CacheNode<TKey, TValue> _front = head.Next!;
        private bool _moved;

        public void Apply(object item)
        {
            CacheNode<TKey, TValue> node = Unsafe.As<CacheNode<TKey, TValue>>(item);

            // A recorded read of a node that left meanwhile (replaced, evicted, removed) is simply dropped.
            if (node.Next is not { } next || node == _front)
            {
                return;
            }

            CacheNode<TKey, TValue> prev = node.Prev!;
            prev.Next = next;
            next.Prev = prev;
            node.Next = _front;
            _front.Prev = node;
            _front = node;
            _moved = true;
        }

        public readonly void Complete()
        {
            // Not "head.Next != _front": the old front may have moved away and back, its back link then stale too.
            if (_moved)
            {
                _front.Prev = head;
                head.Next = _front;
            }
        }
    }

    private readonly record struct PendingRemoval(CacheNode<TKey, TValue> Node, RemovalReason Reason, bool Dispose);
}
