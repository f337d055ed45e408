namespace SafeMem.Caching;

/// <summary>
/// One entry: key, value, its hash chain link, its recency stamp and its place in the recency order. The plain node
/// (every entry weighs 1, no expiry) is kept as small as a node can be; weight and timing live in subclasses that only
/// caches needing them allocate.
/// </summary>
/// <remarks>
/// A node is immutable in key and value (a write of a new value makes a new node), so a lock-free reader that got a
/// node always reads a consistent pair. <see cref="HashNext"/>, <see cref="Id"/>, <see cref="Prev"/> and
/// <see cref="Next"/> are written only under the cache's policy lock; <see cref="Stamp"/> is written by every reader
/// that hits the node, without a lock. A node is in the cache exactly while <see cref="Id"/> is not -1.
/// </remarks>
internal class CacheNode<TKey, TValue>
{
    public readonly TKey Key;
    public readonly TValue Value;
    public readonly int Hash;

    /// <summary>
    /// Where the node is in the recency order (<see cref="RecencyOrder{TKey, TValue}"/>): its id in the heap (0 or
    /// more), -2 in the write-ordered list, or -1 once it left the cache. Read without the lock only to ask whether the
    /// node is still in the cache (a removal writes -1 before it publishes anything).
    /// </summary>
    public int Id = RecencyOrder<TKey, TValue>.NotHeld;

    /// <summary>Neighbours in the recency order's write-ordered list (null while in its heap or out of the cache).</summary>
    public CacheNode<TKey, TValue>? Prev;

    /// <inheritdoc cref="Prev"/>
    public CacheNode<TKey, TValue>? Next;

    /// <summary>
    /// The next node of the same hash bucket. A node that left keeps its link, so a reader standing on it when it was
    /// unlinked still walks on to the rest of the chain.
    /// </summary>
    public CacheNode<TKey, TValue>? HashNext;

    /// <summary>
    /// When the entry was last used, on the cache's recency clock (<see cref="RecencyClock"/>). Readers store it with a
    /// plain write: racing readers of one node leave one of their stamps, which only makes concurrent order approximate.
    /// </summary>
    public long Stamp;

    public CacheNode(TKey key, TValue value, int hash)
    {
        Key = key;
        Value = value;
        Hash = hash;
    }

    public virtual long Weight => 1;

    public bool IsLinked => Volatile.Read(ref Id) != RecencyOrder<TKey, TValue>.NotHeld;
}

/// <summary>A node with its own weight (a weigher or a per-entry weight is in use).</summary>
internal sealed class WeightedCacheNode<TKey, TValue> : CacheNode<TKey, TValue>
{
    private readonly long _weight;

    public WeightedCacheNode(TKey key, TValue value, int hash, long weight)
        : base(key, value, hash) => _weight = weight;

    public override long Weight => _weight;
}

/// <summary>
/// A node that can expire: it carries its weight, a write deadline, an access time to live and the last access, and
/// sits in a second, write-ordered list (oldest write first) used to purge entries expired after write.
/// </summary>
internal sealed class TimedCacheNode<TKey, TValue> : CacheNode<TKey, TValue>
{
    public const long NoLimit = long.MaxValue;

    private readonly long _weight;

    public TimedCacheNode(TKey key, TValue value, int hash, long weight)
        : base(key, value, hash) => _weight = weight;

    public override long Weight => _weight;

    /// <summary>UTC ticks at which the entry expires whatever its reads (<see cref="NoLimit"/> for none).</summary>
    public long WriteDeadline = NoLimit;

    /// <summary>Ticks the entry lives after its last access (<see cref="NoLimit"/> for none).</summary>
    public long AccessTimeToLive = NoLimit;

    /// <summary>
    /// UTC ticks of the last read or write. Readers store it without the lock: a torn or lost update only moves the
    /// expiry of an entry being read concurrently by a few ticks, never returns an expired entry to the reader that
    /// checked it.
    /// </summary>
    public long LastAccess;

    /// <summary>True when the entry has its own (per-entry) expiry, whose order the write list does not follow.</summary>
    public bool HasOwnExpiry;

    public TimedCacheNode<TKey, TValue>? WritePrev;
    public TimedCacheNode<TKey, TValue>? WriteNext;

    /// <summary>Its position in the cache's <see cref="ExpiryHeap{TKey, TValue}"/>, or -1 when not there (written under the lock).</summary>
    public int ExpiryPosition = -1;

    public bool IsExpired(long now)
        => now >= WriteDeadline
            || (AccessTimeToLive != NoLimit && now - Volatile.Read(ref LastAccess) >= AccessTimeToLive);

    /// <summary>The instant (UTC ticks) at which the entry expires unless it is read before: <see cref="IsExpired"/> is now &gt;= this.</summary>
    public long Deadline()
    {
        if (AccessTimeToLive == NoLimit)
        {
            return WriteDeadline;
        }

        long lastAccess = Volatile.Read(ref LastAccess);
        long accessDeadline = lastAccess > long.MaxValue - AccessTimeToLive ? long.MaxValue : lastAccess + AccessTimeToLive;
        return Math.Min(WriteDeadline, accessDeadline);
    }
}
