using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// The seam between the engine and its eviction policy: which order the cache keeps (exact LRU or W-TinyLFU), and how
/// a hit reaches the TinyLfu policy (recorded in the reading thread's ring, drained by writers under the lock, and by a
/// drain on the thread pool when a reader's ring is full).
/// </summary>
public sealed partial class BoundedCache<TKey, TValue>
{
    /// <summary>A hit must check the node for expiry (some entry can expire).</summary>
    private const int MayExpireFlag = 1;

    /// <summary>A hit is recorded for the TinyLfu policy instead of stamped.</summary>
    private const int RecordsReadsFlag = 2;

    /// <summary>With <see cref="RecordsReadsFlag"/>: a reader whose ring is full drains it itself (the synchronous mode).</summary>
    private const int DrainsOnCallerFlag = 4;

    private const int DrainIdle = 0;
    private const int DrainScheduled = 1;

    // Exactly one of these is set; _recency is the same object seen through what both policies share.
    private readonly RecencyOrder<TKey, TValue>? _lru;
    private readonly TinyLfuOrder<TKey, TValue>? _lfu;

    // TinyLfu with background draining: the one work item every scheduled drain queues (queuing it allocates nothing).
    // It holds the cache strongly, so a queued drain keeps a dropped cache alive until it has run, and no longer.
    private readonly ReadDrain? _readDrain;

    // DrainScheduled from the reader that won the CAS on a full ring until the drain it queued has finished.
    private int _drainState;

    /// <summary>Gets the eviction policy the cache was built with.</summary>
    public EvictionPolicy EvictionPolicy => _counters.Policy;

    private static EntryOrder<TKey, TValue> NewOrder(
        BoundedCacheOptions<TKey, TValue> options,
        out RecencyOrder<TKey, TValue>? lru,
        out TinyLfuOrder<TKey, TValue>? lfu)
    {
        if (options.EvictionPolicy == EvictionPolicy.TinyLfu)
        {
            lru = null;
            lfu = new TinyLfuOrder<TKey, TValue>(options.MaximumCount, options.MaximumWeight, (uint)(options.PolicySeed ?? Random.Shared.Next()));
            return lfu;
        }

        lfu = null;
        lru = new RecencyOrder<TKey, TValue>();
        return lru;
    }

    /// <summary>A hit on a cache whose hits do more than stamp: expiry check, then stamp (LRU) or record (TinyLfu).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HitWithFlags(CacheNode<TKey, TValue> node, int flags)
    {
        if ((flags & MayExpireFlag) != 0 && node is TimedCacheNode<TKey, TValue> timed && !TouchTimed(timed))
        {
            return false;
        }

        if ((flags & RecordsReadsFlag) == 0)
        {
            node.Stamp = _clock.Hit();
        }
        else if ((flags & DrainsOnCallerFlag) == 0)
        {
            // The ring was full: the hit is counted, its record dropped. Every hit on a full ring comes here until the
            // drain has run, so the plain read keeps that to one load of a line that changes once per drain.
            if (!_clock.RecordOrDrop(node) && Volatile.Read(ref _drainState) == DrainIdle)
            {
                ScheduleDrain();
            }
        }
        else if (!_clock.TryRecord(node))
        {
            RecordWhenFull(node);
        }

        return true;
    }

    /// <summary>
    /// A ring is full and no drain is scheduled: queue one on the thread pool, so the policy's maintenance never runs on
    /// a reader's path. The CAS (one per full ring, not per hit) lets exactly one of the readers that saw the flag clear
    /// queue it. Under read-heavy load the policy thus sees a sample of the hits, as in Caffeine.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ScheduleDrain()
    {
        if (Interlocked.CompareExchange(ref _drainState, DrainScheduled, DrainIdle) == DrainIdle)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_readDrain!, preferLocal: false);
        }
    }

    /// <summary>
    /// This thread's ring is full, in the synchronous mode (<see cref="BoundedCacheOptions{TKey, TValue}.DrainReadsOnCaller"/>):
    /// drain every ring under the lock if it is free (on one thread it always is, so no hit is lost there), else drop
    /// this hit's record (still counted as a hit) rather than wait on a reader's path.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordWhenFull(CacheNode<TKey, TValue> node)
    {
        if (Monitor.TryEnter(_lock))
        {
            try
            {
                if (!_disposed)
                {
                    DrainReadsLocked();
                }
            }
            finally
            {
                Monitor.Exit(_lock);
            }

            if (!_disposed && _clock.TryRecord(node))
            {
                return;
            }
        }

        _clock.CountDropped();
    }

    /// <summary>
    /// The scheduled drain, on a thread-pool thread: applies every ring's hits under the lock (or, once the cache is
    /// disposed, discards them so no ring keeps a node alive), then lets the next full ring schedule another.
    /// </summary>
    private void DrainScheduledReads()
    {
        try
        {
            lock (_lock)
            {
                try
                {
                    if (_disposed)
                    {
                        // A reader that found a node just before Dispose may have recorded it after Dispose emptied the rings.
                        _clock.DiscardReads();
                    }
                    else
                    {
                        DrainReadsLocked();
                    }
                }
                catch (Exception)
                {
                    // OnRead runs no user code, so this is not expected; but an exception on a thread-pool thread would
                    // end the process. A ring left half drained would hand cleared slots to the next drain: forget the
                    // records instead (the hits stay counted; the policy just does not see them).
                    _clock.DiscardReads();
                }
            }
        }
        finally
        {
            // Cleared after the drain, not before: while it runs, readers whose rings are full drop records instead of
            // queuing drains that would only wait on the lock. A ring that fills after the drain passed it finds the flag
            // clear on its next hit and schedules again.
            Volatile.Write(ref _drainState, DrainIdle);
        }
    }

    /// <summary>Applies the hits recorded since the last drain to the TinyLfu policy, in each thread's order. Under the lock; nothing to do under LRU.</summary>
    private void DrainReadsLocked()
    {
        if (_lfu is { } lfu)
        {
            _clock.DrainReads(lfu);
        }
    }

    /// <summary>The TinyLfu write: duels evict until the node fits under both bounds, then it enters the window. Under the lock.</summary>
    private void AdmitTinyLfuLocked(TinyLfuOrder<TKey, TValue> lfu, CacheNode<TKey, TValue> node, ref List<PendingRemoval>? removals)
    {
        lfu.BeginWrite(node);
        while (lfu.NextEviction(out bool refused) is { } victim)
        {
            RemoveLocked(victim, RemovalReason.Evicted, ref removals);
            if (refused)
            {
                _counters.AdmissionRejections++;
            }
        }

        lfu.EndWrite(node);
    }

    /// <summary>Gets the TinyLfu policy's order (null under LRU), for tests.</summary>
    internal TinyLfuOrder<TKey, TValue>? TinyLfu => _lfu;

    /// <summary>Gets the clock that counts hits and holds the TinyLfu rings, for tests.</summary>
    internal RecencyClock Clock => _clock;

    /// <summary>Gets the policy lock, for tests that hold it while a drain is scheduled.</summary>
    internal object PolicyLock => _lock;

    /// <summary>Gets a value indicating whether a drain of the readers' rings is scheduled or running, for tests.</summary>
    internal bool IsReadDrainScheduled => Volatile.Read(ref _drainState) != DrainIdle;

    /// <summary>The cache's one drain work item; queued without allocating, and without the caller's execution context.</summary>
    private sealed class ReadDrain(BoundedCache<TKey, TValue> cache) : IThreadPoolWorkItem
    {
        public void Execute() => cache.DrainScheduledReads();
    }
}
