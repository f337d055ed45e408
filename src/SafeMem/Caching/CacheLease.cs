namespace SafeMem.Caching;

/// <summary>
/// Keeps a cached value usable: while a lease is held, a cache that disposes removed values
/// (<see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>) does not dispose this value, even if every
/// entry holding it leaves the cache meanwhile. Dispose the lease when done with the value.
/// </summary>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// The lease holds the value and the cache strongly until it is disposed. Disposing it more than once is harmless.
/// Leases count per value instance, not per entry: a value is disposed once no entry holds it and its last lease is
/// disposed, on the thread that disposes that lease, and an exception from the value's <c>Dispose</c> propagates from
/// the lease's <see cref="Dispose"/>. A lease may also hold a value that was never stored (a loaded value heavier than
/// the weight bound, see <see cref="BoundedCache{TKey, TValue}.GetOrAddLease(TKey, Func{TKey, TValue})"/>): it is
/// disposed the same way. Thread-safe.
/// </remarks>
public sealed class CacheLease<TValue> : IDisposable
{
    private ILeaseOwner<TValue>? _owner;

    internal CacheLease(ILeaseOwner<TValue>? owner, TValue value)
    {
        _owner = owner;
        Value = value;
    }

    /// <summary>Gets the leased value. The cache does not dispose it until this lease is disposed.</summary>
    public TValue Value { get; }

    /// <summary>Releases the lease; if no entry holds the value any more and this was its last lease, disposes the value.</summary>
    public void Dispose()
    {
        // The exchange makes release happen once even when two threads dispose the same lease.
        Interlocked.Exchange(ref _owner, null)?.Release(Value);
    }
}

/// <summary>What a lease calls back into, without knowing the cache's key type.</summary>
/// <typeparam name="TValue">The value type.</typeparam>
internal interface ILeaseOwner<in TValue>
{
    void Release(TValue value);
}
