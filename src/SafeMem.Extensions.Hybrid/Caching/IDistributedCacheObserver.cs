namespace SafeMem.Extensions.Caching;

/// <summary>
/// What a <see cref="ResilientDistributedCache"/> tells the Redis backplane (and asks it) about its asynchronous
/// operations: changes that reached the distributed cache or failed to, reads whose answer another node may have made
/// stale while they ran, and writes the backplane makes on a node's behalf that must not go out again.
/// </summary>
/// <remarks>
/// Called on the threads that finish the operations, concurrently; implementations must be thread-safe, must not throw
/// and must return at once (the write's caller waits for nothing else). Keys are HybridCache's: entry keys, and its tag
/// invalidation records (<see cref="TagKeyPrefix"/> + tag).
/// </remarks>
internal interface IDistributedCacheObserver
{
    /// <summary>The prefix of the distributed-cache keys under which HybridCache records a tag's invalidation time.</summary>
    /// <remarks>
    /// HybridCache's own format (<c>__MSFT_HCT__</c> + tag, an 8-byte little-endian UTC tick count): a persisted format
    /// HybridCache nodes of different versions share through Redis. The backplane's integration tests would fail if
    /// it changed.
    /// </remarks>
    const string TagKeyPrefix = "__MSFT_HCT__";

    /// <summary>A write or removal of <paramref name="key"/> reached the distributed cache.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value written (its first 8 bytes are read for a tag record), or empty for a removal.</param>
    void OnChanged(string key, ReadOnlySpan<byte> value);

    /// <summary>A write or removal of <paramref name="key"/> failed (or timed out, or was refused): the distributed cache may hold the old value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">As for <see cref="OnChanged"/>.</param>
    void OnChangeFailed(string key, ReadOnlySpan<byte> value);

    /// <summary>A read of <paramref name="key"/> answered <paramref name="value"/> (null: absent).</summary>
    void OnRead(string key, ReadOnlySpan<byte> value, bool found);

    /// <summary>Whether a write of <paramref name="key"/> must not reach the distributed cache (the backplane is applying another node's change).</summary>
    bool SkipWrite(string key);

    /// <summary>A stamp taken before a read starts, for <see cref="ChangedSince"/>.</summary>
    long ReadStamp();

    /// <summary>Whether another node changed <paramref name="key"/> (or this node forgot everything) since <paramref name="stamp"/>: a read that started before may have fetched the old value.</summary>
    bool ChangedSince(string key, long stamp);
}
