namespace SafeMem.Caching;

/// <summary>
/// One entry: key, value and its place in the LRU list. The plain node (every entry weighs 1, no expiry) is kept as
/// small as a node can be; weight and timing live in subclasses that only caches needing them allocate.
/// </summary>
/// <remarks>
/// A node is immutable in key and value (a write of a new value makes a new node), so a lock-free reader that got a
/// node always reads a consistent pair. <see cref="Prev"/> and <see cref="Next"/> are written only under the cache's
/// policy lock; a node is linked (in the cache) exactly while <see cref="Next"/> is not null, because the list is
/// circular around a sentinel.
/// </remarks>
internal class CacheNode<TKey, TValue>
{
    public readonly TKey Key;
    public readonly TValue Value;
    public CacheNode<TKey, TValue>? Prev;
    public CacheNode<TKey, TValue>? Next;

    public CacheNode(TKey key, TValue value)
    {
        Key = key;
        Value = value;
    }

    public virtual long Weight => 1;

    public bool IsLinked => Next is not null;
}

/// <summary>A node with its own weight (a weigher or a per-entry weight is in use).</summary>
internal sealed class WeightedCacheNode<TKey, TValue> : CacheNode<TKey, TValue>
{
    private readonly long _weight;

    public WeightedCacheNode(TKey key, TValue value, long weight)
        : base(key, value) => _weight = weight;

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

    public TimedCacheNode(TKey key, TValue value, long weight)
        : base(key, value) => _weight = weight;

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

    public bool IsExpired(long now)
        => now >= WriteDeadline
            || (AccessTimeToLive != NoLimit && now - Volatile.Read(ref LastAccess) >= AccessTimeToLive);
}
