namespace SafeMem.Caching;

/// <summary>
/// Per-entry settings for the internal <c>Set</c> overload the <c>IMemoryCache</c> adapter uses.
/// </summary>
/// <param name="Weight">The entry's weight; overrides the weigher (still validated: not negative).</param>
/// <param name="AbsoluteExpiration">The instant the entry expires, on top of the cache-wide times to live (earliest wins).</param>
/// <param name="SlidingExpiration">How long the entry lives after its last read or write, on top of the cache-wide ones.</param>
internal readonly record struct CacheEntryPolicy(long? Weight, DateTimeOffset? AbsoluteExpiration, TimeSpan? SlidingExpiration);
