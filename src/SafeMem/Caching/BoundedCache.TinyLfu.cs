using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// The seam between the engine and its eviction policy: which order the cache keeps (exact LRU or W-TinyLFU), and how
/// a hit reaches the TinyLfu policy (recorded in the reading thread's ring, drained under the lock by every write and by
/// the reader whose ring is full, never on another thread; see <see cref="RecencyClock"/>).
/// </summary>
public sealed partial class BoundedCache<TKey, TValue>
{
    /// <summary>A hit must check the node for expiry (some entry can expire).</summary>
    private const int MayExpireFlag = 1;

    /// <summary>A hit is recorded for the TinyLfu policy instead of stamped.</summary>
    private const int RecordsReadsFlag = 2;

    /// <summary>With <see cref="RecordsReadsFlag"/>: a reader never samples its hits (the synchronous mode, for replays).</summary>
    private const int AppliesEveryHitFlag = 4;

    /// <summary>Records a reader skips after it found the lock taken with its ring full (default mode): a retry per 16 hits at most.</summary>
    private const int LockedBackOff = 16;

    // Exactly one of these is set; _recency is the same object seen through what both policies share.
    private readonly RecencyOrder<TKey, TValue>? _lru;
    private readonly TinyLfuOrder<TKey, TValue>? _lfu;

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
        else
        {
            RecencyClock.RecordResult recorded = _clock.Record(node);
            if (recorded != RecencyClock.RecordResult.Done)
            {
                RecordAfterDrain(node, recorded, flags);
            }
        }

        return true;
    }

    /// <summary>
    /// This thread's ring is full, or it is about to start filling it while another thread's may hold older hits: drain
    /// every ring under the lock if it is free (on one thread, and for threads taking turns, it always is, so the policy
    /// sees every hit in order whatever other threads do), then record the hit. In the default mode a thread whose ring
    /// keeps filling with no write between samples its next hits more sparsely. If the lock is taken, a full ring drops
    /// this hit's record (still counted as a hit) rather than wait on a reader's path, and in the default mode skips a few
    /// records before it tries again; an empty one records anyway (concurrent readers' order is approximate).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordAfterDrain(CacheNode<TKey, TValue> node, RecencyClock.RecordResult recorded, int flags)
    {
        bool synchronous = (flags & AppliesEveryHitFlag) != 0;
        if (Monitor.TryEnter(_lock))
        {
            try
            {
                if (!_disposed)
                {
                    DrainReadsLocked();
                    if (recorded == RecencyClock.RecordResult.Full && !synchronous)
                    {
                        _clock.AfterOwnFullDrain();
                    }
                }
            }
            finally
            {
                Monitor.Exit(_lock);
            }

            if (!_disposed && _clock.RecordFirst(node))
            {
                return;
            }
        }
        else if (recorded == RecencyClock.RecordResult.OthersPending && _clock.RecordFirst(node))
        {
            return;
        }

        _clock.CountDropped(synchronous ? 0 : LockedBackOff);
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

    /// <summary>Gets the policy lock, for tests that hold it while readers fill their rings.</summary>
    internal object PolicyLock => _lock;
}
