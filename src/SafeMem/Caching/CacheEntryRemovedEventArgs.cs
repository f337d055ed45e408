namespace SafeMem.Caching;

/// <summary>Describes an entry that left a <see cref="BoundedCache{TKey, TValue}"/>.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// The arguments hold the key and value strongly; a handler that keeps them keeps them alive. When the cache disposes
/// removed values (<see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>), the value is disposed after
/// every handler of this removal has run, unless a lease defers it.
/// </remarks>
public sealed class CacheEntryRemovedEventArgs<TKey, TValue> : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="key">The key of the entry.</param>
    /// <param name="value">The value of the entry.</param>
    /// <param name="reason">Why it left.</param>
    public CacheEntryRemovedEventArgs(TKey key, TValue value, RemovalReason reason)
    {
        Key = key;
        Value = value;
        Reason = reason;
    }

    /// <summary>Gets the key of the entry that left.</summary>
    public TKey Key { get; }

    /// <summary>Gets the value of the entry that left.</summary>
    public TValue Value { get; }

    /// <summary>Gets why the entry left.</summary>
    public RemovalReason Reason { get; }
}
