using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace SafeMem.Caching;

/// <summary>GetOrAdd: one factory run per key at a time, shared by every concurrent caller.</summary>
public sealed partial class BoundedCache<TKey, TValue>
{
    /// <summary>
    /// Returns the value for <paramref name="key"/>, running <paramref name="factory"/> to create and store it on a
    /// miss. The factory runs outside any lock and at most once per key at a time; concurrent callers share its result.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; must not return null and must not ask this cache for <paramref name="key"/>.</param>
    /// <returns>The cached or created value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The factory returned null, or asked this cache for the same key.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGet(key, out TValue? value))
        {
            return value;
        }

        return Load(key, static (k, f) => f(k), factory);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/>, running <paramref name="factory"/>(key, <paramref name="factoryArgument"/>)
    /// on a miss, so the factory need not capture state. Same guarantees as <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>.
    /// </summary>
    /// <typeparam name="TArg">The type of the state passed to the factory.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; must not return null and must not ask this cache for <paramref name="key"/>.</param>
    /// <param name="factoryArgument">State passed to <paramref name="factory"/>.</param>
    /// <returns>The cached or created value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The factory returned null, or asked this cache for the same key.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGet(key, out TValue? value))
        {
            return value;
        }

        return Load(key, factory, factoryArgument);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/>, awaiting <paramref name="factory"/> on a miss. A hit completes
    /// synchronously without allocating. The factory runs at most once per key at a time; concurrent callers (sync or
    /// async) await the same run. If it throws or is cancelled, every waiter sees that and nothing is cached.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; receives <paramref name="cancellationToken"/> of the caller that runs it.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait; when this caller runs the factory, it is also the factory's token, and its
    /// cancellation fails the load for every waiter.
    /// </param>
    /// <returns>The cached or created value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The factory returned null, or asked this cache for the same key.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public ValueTask<TValue> GetOrAddAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGet(key, out TValue? value))
        {
            return new ValueTask<TValue>(value);
        }

        return LoadAsync(key, factory, cancellationToken);
    }

    private ConcurrentDictionary<TKey, TaskCompletionSource<TValue>> Loads()
    {
        ConcurrentDictionary<TKey, TaskCompletionSource<TValue>>? loads = Volatile.Read(ref _loads);
        if (loads is null)
        {
            // Losing this race only drops an empty dictionary.
            Interlocked.CompareExchange(ref _loads, new ConcurrentDictionary<TKey, TaskCompletionSource<TValue>>(_comparer), null);
            loads = _loads;
        }

        return loads;
    }

    private TValue Load<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        ConcurrentDictionary<TKey, TaskCompletionSource<TValue>> loads = Loads();
        TaskCompletionSource<TValue>? load = ClaimLoad(loads, key, out TaskCompletionSource<TValue>? running);
        if (load is null)
        {
            return running!.Task.GetAwaiter().GetResult();
        }

        List<PendingRemoval>? removals = null;
        TValue value;
        bool factoryRan = false;
        try
        {
            // A load may have completed between our miss and our claim; do not run the factory again for it.
            if (!TryPeekLive(key, out value!))
            {
                LoadScope.Frame? previous = LoadScope.Enter(load);
                try
                {
                    factoryRan = true;
                    Interlocked.Increment(ref _counters.FactoryCalls);
                    value = factory(key, factoryArgument);
                }
                finally
                {
                    LoadScope.Exit(previous);
                }

                StoreLoaded(key, value, ref removals);
            }
        }
        catch (Exception ex)
        {
            FailLoad(key, load, ex, factoryRan);
            throw;
        }

        CompleteLoad(key, load, value);
        Publish(removals);
        return value;
    }

    private async ValueTask<TValue> LoadAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ConcurrentDictionary<TKey, TaskCompletionSource<TValue>> loads = Loads();
        TaskCompletionSource<TValue>? load = ClaimLoad(loads, key, out TaskCompletionSource<TValue>? running);
        if (load is null)
        {
            return await running!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        List<PendingRemoval>? removals = null;
        TValue value;
        bool factoryRan = false;
        try
        {
            if (!TryPeekLive(key, out value!))
            {
                ValueTask<TValue> pending;

                // The frame flows into the factory's awaits (captured with its execution context) and is restored
                // here before this method awaits, so only the factory's own flow counts as "inside the load".
                LoadScope.Frame? previous = LoadScope.Enter(load);
                try
                {
                    factoryRan = true;
                    Interlocked.Increment(ref _counters.FactoryCalls);
                    pending = factory(key, cancellationToken);
                }
                finally
                {
                    LoadScope.Exit(previous);
                }

                value = await pending.ConfigureAwait(false);
                StoreLoaded(key, value, ref removals);
            }
        }
        catch (Exception ex)
        {
            FailLoad(key, load, ex, factoryRan);
            throw;
        }

        CompleteLoad(key, load, value);
        Publish(removals);
        return value;
    }

    /// <summary>
    /// Claims the load of <paramref name="key"/> for this caller (returns it), or finds the load already in flight
    /// (returns null, with <paramref name="running"/> set) for the caller to wait on. A factory asking for its own key
    /// is refused here, since waiting on its own load would never end.
    /// </summary>
    private static TaskCompletionSource<TValue>? ClaimLoad(
        ConcurrentDictionary<TKey, TaskCompletionSource<TValue>> loads,
        TKey key,
        out TaskCompletionSource<TValue>? running)
    {
        while (true)
        {
            if (loads.TryGetValue(key, out running))
            {
                if (LoadScope.IsActive(running))
                {
                    ThrowReentrant(key);
                }

                return null;
            }

            var load = new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (loads.TryAdd(key, load))
            {
                return load;
            }

            // Another caller claimed the key between our look and our claim: look again and wait for it instead.
        }
    }

    private void StoreLoaded(TKey key, TValue value, ref List<PendingRemoval>? removals)
    {
        if (value is null)
        {
            ThrowFactoryReturnedNull(key);
        }

        CacheNode<TKey, TValue> node;
        try
        {
            node = NewNode(key, value, HashOf(key), Weigh(key, value), ownExpiry: false);
            lock (_lock)
            {
                ThrowIfDisposed();
                SetLocked(node, default, ref removals);
            }
        }
        catch when (_disposeValues && value is IDisposable)
        {
            // The value was never stored: the cache owned it from the factory on, so it disposes it (a disposed cache
            // disposes what it is given), then reports why the load failed.
            ((IDisposable)value).Dispose();
            throw;
        }
    }

    private void CompleteLoad(TKey key, TaskCompletionSource<TValue> load, TValue value)
    {
        // Leave the in-flight table before waking waiters: a caller arriving now finds the stored value instead.
        _loads!.TryRemove(new KeyValuePair<TKey, TaskCompletionSource<TValue>>(key, load));
        load.TrySetResult(value);
    }

    private void FailLoad(TKey key, TaskCompletionSource<TValue> load, Exception exception, bool factoryRan)
    {
        if (factoryRan)
        {
            Interlocked.Increment(ref _counters.FactoryFailures);
        }

        _loads!.TryRemove(new KeyValuePair<TKey, TaskCompletionSource<TValue>>(key, load));
        if (exception is OperationCanceledException cancelled)
        {
            load.TrySetCanceled(cancelled.CancellationToken);
        }
        else
        {
            load.TrySetException(exception);
        }

        // Nobody may be waiting; observe the task so an unobserved-exception event is not raised for it.
        _ = load.Task.Exception;
    }

    [DoesNotReturn]
    private static void ThrowReentrant(TKey key)
        => throw new InvalidOperationException(
            $"The factory for key '{key}' asked the same cache for the same key while creating it, which would wait for itself forever. Load the value without going through the cache for this key.");

    [DoesNotReturn]
    private static void ThrowFactoryReturnedNull(TKey key)
        => throw new InvalidOperationException($"The factory for key '{key}' returned null; a bounded cache does not store null values. Nothing was cached.");
}
