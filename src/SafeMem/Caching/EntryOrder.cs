namespace SafeMem.Caching;

/// <summary>
/// What the cache's write path needs from an eviction policy's order of entries: <see cref="RecencyOrder{TKey, TValue}"/>
/// (exact LRU) or <see cref="TinyLfuOrder{TKey, TValue}"/> (W-TinyLFU). Each policy adds entries and chooses its victims in its
/// own way (see <c>BoundedCache.Policy.cs</c>); this base holds the rest.
/// </summary>
/// <remarks>Not thread-safe: every member runs under the cache's policy lock.</remarks>
internal abstract class EntryOrder<TKey, TValue>
{
    /// <summary>Gets the number of nodes held.</summary>
    public abstract int Count { get; }

    /// <summary>Removes <paramref name="node"/>, which must be held here; marks it as not held.</summary>
    public abstract void Remove(CacheNode<TKey, TValue> node);

    /// <summary>Every node held, in no particular order (for snapshots, clearing and checks).</summary>
    public abstract List<CacheNode<TKey, TValue>> ToList();

    /// <summary>Forgets every node at once and gives back the memory grown into; each node is marked as not held.</summary>
    public abstract void Clear();

    /// <summary>Tells whether <paramref name="node"/> is held here.</summary>
    public abstract bool Holds(CacheNode<TKey, TValue> node);

    /// <summary>For tests: the first broken rule, or null.</summary>
    public abstract string? FindInconsistency();
}
