namespace SafeMem.Caching;

/// <summary>
/// Keeps a cached value usable: while a lease is held, a cache that disposes removed values
/// (<see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>) defers disposing this value, even if the
/// entry leaves the cache meanwhile. Dispose the lease when done with the value.
/// </summary>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// The lease holds the value and the cache strongly until it is disposed. Disposing it more than once is harmless.
/// When the last lease on a value that already left the cache is disposed, the value is disposed on that thread, and
/// an exception from the value's <c>Dispose</c> propagates from the lease's <see cref="Dispose"/>. Thread-safe.
/// </remarks>
public sealed class CacheLease<TValue> : IDisposable
{
    private ILeaseOwner? _owner;
    private readonly object _node;

    internal CacheLease(ILeaseOwner owner, object node, TValue value)
    {
        _owner = owner;
        _node = node;
        Value = value;
    }

    /// <summary>Gets the leased value. It stays undisposed by the cache until this lease is disposed.</summary>
    public TValue Value { get; }

    /// <summary>Releases the lease; if the entry already left the cache and this was its last lease, disposes the value.</summary>
    public void Dispose()
    {
        // The exchange makes release happen once even when two threads dispose the same lease.
        Interlocked.Exchange(ref _owner, null)?.Release(_node);
    }
}

/// <summary>What a lease calls back into, without knowing the cache's key type.</summary>
internal interface ILeaseOwner
{
    void Release(object node);
}
