namespace SafeMem.Caching;

/// <summary>How a <see cref="BoundedCache{TKey, TValue}"/> chooses the entries it evicts to keep its bounds.</summary>
/// <remarks>
/// Both policies keep the same contract: a write returns only after the bounds hold, the entry it stored is visible
/// right after it (until a later write evicts it), every removal is reported with its reason, and a hit takes no lock
/// and no interlocked instruction. They differ in which entries they keep; the hit-rate tables in
/// <c>docs/performance.md</c> show by how much on real traces.
/// </remarks>
public enum EvictionPolicy
{
    /// <summary>
    /// Exact least recently used (for a single thread): a write evicts the entries read or written longest ago. Cheapest
    /// per hit, and right for workloads where what was used recently is what will be used next.
    /// </summary>
    Lru,

    /// <summary>
    /// Window TinyLFU: a new entry enters a small LRU admission window; an entry leaving the window is admitted to the
    /// main region (segmented into probation and protected LRUs) only if a compact frequency sketch says it is used more
    /// often than the main region's victim, so one-off and scan accesses do not flush frequently used entries. The
    /// window's share adapts to the workload (hill climbing). Under a weight bound, a candidate must be more frequent than
    /// every victim whose weight it needs. See <c>docs/caching-tinylfu.md</c>.
    /// </summary>
    TinyLfu,
}
