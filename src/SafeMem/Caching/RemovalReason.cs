namespace SafeMem.Caching;

/// <summary>Why an entry left a <see cref="BoundedCache{TKey, TValue}"/> (or, for <see cref="Rejected"/>, never entered it).</summary>
public enum RemovalReason
{
    /// <summary>The entry was the least recently used one when a write needed room under a bound.</summary>
    Evicted,

    /// <summary>The entry outlived its time to live (after write, after access, or its own expiry).</summary>
    Expired,

    /// <summary>The entry was removed explicitly (<c>TryRemove</c>).</summary>
    Removed,

    /// <summary>A write stored a new value under the same key.</summary>
    Replaced,

    /// <summary>The cache was cleared (<c>Clear</c>).</summary>
    Cleared,

    /// <summary>The entry weighed more than the whole weight bound, so it was not stored and evicted nothing.</summary>
    Rejected,
}
