using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace SafeMem.Caching;

/// <summary>
/// GetOrAdd: one factory run per key at a time, shared by every concurrent caller; the lease-returning variants; waits
/// that would close a cycle of factories are refused (<see cref="LoadScope"/>).
/// </summary>
/// <remarks>
/// <code>
///   miss ──► claim the key's load (or join the one in flight) ──► factory ──► store + one hold per caller ──► wake
///                                                                              (one step, under the policy lock)
/// </code>
/// In a cache that disposes values, every caller of a load (the one running the factory and each that joined it) is
/// a "party": when the value is stored, it is held once per party in the same step, so no eviction, rejection or
/// other thread's write can dispose it before each party has it. A party then turns its hold into a lease
/// (GetOrAddLease), or gives it back before returning (GetOrAdd); a party that stops waiting gives it back when the
/// load completes. A load that completed refuses new parties, which look again (and find the stored value).
/// </remarks>
public sealed partial class BoundedCache<TKey, TValue>
{
    /// <summary>
    /// Returns the value for <paramref name="key"/>, running <paramref name="factory"/> to create and store it on a
    /// miss. The factory runs outside any lock and at most once per key at a time; concurrent callers share its result.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; must not return null and must not wait for its own key, directly or through other factories.</param>
    /// <returns>The cached or created value.</returns>
    /// <remarks>
    /// With <see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>, the value returned is not leased: any
    /// removal may dispose it as soon as no entry holds it, so a caller that uses it while other threads write should
    /// call <see cref="GetOrAddLease(TKey, Func{TKey, TValue})"/> instead. What this method does guarantee: a value it
    /// loaded is held from its store until just before it is returned, and if it left the cache meanwhile (another
    /// thread's write evicted it) and nothing but that removal holds it, so that it is disposed or about to be, the
    /// call looks again and loads again rather than return it; so one call may run the factory more than once, though
    /// never concurrently for one key. It counts as one lookup however often it looks. A hit returns the value
    /// found, like <see cref="TryGet"/>. A loaded value heavier than <see cref="MaximumWeight"/> is not stored; without
    /// DisposeRemovedValues it is returned, with it it is disposed and the call throws.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The factory returned null, waited for its own key (directly or through a
    /// cycle of factories), or, with DisposeRemovedValues, created a disposable value heavier than the weight bound.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGet(key, out TValue? value))
        {
            return value;
        }

        return LoadValue(key, static (k, f) => f(k), factory);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/>, running <paramref name="factory"/>(key, <paramref name="factoryArgument"/>)
    /// on a miss, so the factory need not capture state. Same guarantees as <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>.
    /// </summary>
    /// <typeparam name="TArg">The type of the state passed to the factory.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; must not return null and must not wait for its own key, directly or through other factories.</param>
    /// <param name="factoryArgument">State passed to <paramref name="factory"/>.</param>
    /// <returns>The cached or created value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">See <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGet(key, out TValue? value))
        {
            return value;
        }

        return LoadValue(key, factory, factoryArgument);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/> in a lease, running <paramref name="factory"/> to create and store
    /// it on a miss: <see cref="TryLease"/> and <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/> in one step, so the
    /// value cannot be disposed between the two. Dispose the lease when done with the value.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; must not return null and must not wait for its own key, directly or through other factories.</param>
    /// <returns>A lease on the cached or created value.</returns>
    /// <remarks>
    /// The factory runs as for <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>, once per key at a time. With
    /// <see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>, the value is held for this caller from
    /// the moment it is found or stored: it is not disposed before the lease is, even if it leaves the cache at once.
    /// A loaded value heavier than <see cref="MaximumWeight"/> is not stored but still handed out in the lease, and is
    /// disposed when the lease is (reported to <see cref="EntryRemoved"/> as <see cref="RemovalReason.Rejected"/>).
    /// Without DisposeRemovedValues the lease only carries the value.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The factory returned null, or waited for its own key (directly or through a cycle of factories).</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public CacheLease<TValue> GetOrAddLease(TKey key, Func<TKey, TValue> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return TryLease(key, out CacheLease<TValue>? lease) ? lease : LoadLease(key, static (k, f) => f(k), factory);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/> in a lease, running <paramref name="factory"/>(key,
    /// <paramref name="factoryArgument"/>) on a miss. Same guarantees as <see cref="GetOrAddLease(TKey, Func{TKey, TValue})"/>.
    /// </summary>
    /// <typeparam name="TArg">The type of the state passed to the factory.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; must not return null and must not wait for its own key, directly or through other factories.</param>
    /// <param name="factoryArgument">State passed to <paramref name="factory"/>.</param>
    /// <returns>A lease on the cached or created value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">See <see cref="GetOrAddLease(TKey, Func{TKey, TValue})"/>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public CacheLease<TValue> GetOrAddLease<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return TryLease(key, out CacheLease<TValue>? lease) ? lease : LoadLease(key, factory, factoryArgument);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/>, awaiting <paramref name="factory"/> on a miss. A hit completes
    /// synchronously without allocating. The factory runs at most once per key at a time; concurrent callers (sync or
    /// async) await the same run. If it throws or is cancelled, every waiter sees that and nothing is cached.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; receives <paramref name="cancellationToken"/> of the caller that starts it.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait: once it is cancelled the call ends at once with an <see cref="OperationCanceledException"/>,
    /// whether or not the factory has finished. When this caller starts the factory, it is also the factory's token: a
    /// factory that honours it fails the load for every waiter; one that ignores it runs on, and its value is stored
    /// for the cache and the other waiters (exceptions from <see cref="EntryRemoved"/> handlers raised by that store then
    /// reach nobody).
    /// </param>
    /// <returns>The cached or created value.</returns>
    /// <remarks>With DisposeRemovedValues, the same guarantees as <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>; use
    /// <see cref="GetOrAddLeaseAsync"/> to keep using the value.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">See <see cref="GetOrAdd(TKey, Func{TKey, TValue})"/>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public ValueTask<TValue> GetOrAddAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (TryGet(key, out TValue? value))
        {
            return new ValueTask<TValue>(value);
        }

        return LoadValueAsync(key, factory, cancellationToken);
    }

    /// <summary>
    /// Returns the value for <paramref name="key"/> in a lease, awaiting <paramref name="factory"/> on a miss: the
    /// asynchronous <see cref="GetOrAddLease(TKey, Func{TKey, TValue})"/>, with the loading and cancellation behaviour
    /// of <see cref="GetOrAddAsync"/>. Dispose the lease when done with the value.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value; receives <paramref name="cancellationToken"/> of the caller that starts it.</param>
    /// <param name="cancellationToken">Cancels this caller's wait (see <see cref="GetOrAddAsync"/>); a caller that stops
    /// waiting gets no lease, and the hold taken for it is given back when the load completes.</param>
    /// <returns>A lease on the cached or created value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">See <see cref="GetOrAddLease(TKey, Func{TKey, TValue})"/>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public ValueTask<CacheLease<TValue>> GetOrAddLeaseAsync(
        TKey key,
        Func<TKey, CancellationToken, ValueTask<TValue>> factory,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return TryLease(key, out CacheLease<TValue>? lease)
            ? new ValueTask<CacheLease<TValue>>(lease)
            : LoadLeaseAsync(key, factory, cancellationToken);
    }

    private ConcurrentDictionary<TKey, PendingLoad> Loads()
    {
        ConcurrentDictionary<TKey, PendingLoad>? loads = Volatile.Read(ref _loads);
        if (loads is null)
        {
            // Losing this race only drops an empty dictionary.
            Interlocked.CompareExchange(ref _loads, new ConcurrentDictionary<TKey, PendingLoad>(_comparer), null);
            loads = _loads;
        }

        return loads;
    }

    private TValue LoadValue<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        while (true)
        {
            Loaded loaded = Load(key, factory, factoryArgument);
            if (!loaded.Held || !GiveBackLoadHold(loaded.Value))
            {
                return loaded.Value;
            }

            if (loaded.Rejected)
            {
                ThrowRejected(key, loaded.Weight);
            }

            // Not counted as a lookup: this call's lookup was counted once already, as the miss that started the load.
            if (TryPeekLive(key, out TValue? value))
            {
                return value;
            }
        }
    }

    /// <summary>
    /// Gives back the hold a plain <c>GetOrAdd</c> took on the value it loaded, disposing the value if that was its last
    /// holder. True when the value left the cache before the call could return it: disposed here, or held only by
    /// removals whose handlers are still running (they dispose it after them), so the call looks again instead.
    /// </summary>
    private bool GiveBackLoadHold(TValue value)
    {
        if (ReleaseLease(value, out bool left))
        {
            DisposeValue(value);
        }

        return left;
    }

    private CacheLease<TValue> LoadLease<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        Loaded loaded = Load(key, factory, factoryArgument);
        return new CacheLease<TValue>(loaded.Held ? this : null, loaded.Value);
    }

    private async ValueTask<TValue> LoadValueAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken)
    {
        while (true)
        {
            Loaded loaded = await LoadAsync(key, factory, cancellationToken).ConfigureAwait(false);
            if (!loaded.Held || !GiveBackLoadHold(loaded.Value))
            {
                return loaded.Value;
            }

            if (loaded.Rejected)
            {
                ThrowRejected(key, loaded.Weight);
            }

            if (TryPeekLive(key, out TValue? value))
            {
                return value;
            }
        }
    }

    private async ValueTask<CacheLease<TValue>> LoadLeaseAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken)
    {
        Loaded loaded = await LoadAsync(key, factory, cancellationToken).ConfigureAwait(false);
        return new CacheLease<TValue>(loaded.Held ? this : null, loaded.Value);
    }

    /// <summary>Runs or joins the load of <paramref name="key"/>; the result carries this caller's hold, if one was taken.</summary>
    private Loaded Load<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        PendingLoad load = ClaimOrJoin(key, out bool claimed);
        if (!claimed)
        {
            return Await(load);
        }

        List<PendingRemoval>? removals = null;
        TValue value;
        bool factoryRan = false;
        try
        {
            if (!TryCompleteFromCache(load, out value!))
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

                StoreLoaded(load, value, ref removals);
            }
        }
        catch (Exception ex)
        {
            FailLoad(load, ex, factoryRan);
            throw;
        }

        CompleteLoad(load, value);
        PublishForParty(load, removals);
        return load.Outcome();
    }

    private async ValueTask<Loaded> LoadAsync(TKey key, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        PendingLoad load = ClaimOrJoin(key, out bool claimed);
        if (!claimed)
        {
            return await AwaitAsync(load, cancellationToken).ConfigureAwait(false);
        }

        // The run is not this caller's to finish: it completes the load for every waiter and the cache, while this
        // caller only waits for it, and stops waiting when its token is cancelled.
        Task run = RunAsync(load, factory, cancellationToken);
        try
        {
            await run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !run.IsCompletedSuccessfully)
        {
            Leave(load);
            _ = run.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
        catch when (load.Completion.Task.IsCompletedSuccessfully)
        {
            // Stored, then an EntryRemoved handler or a disposal threw (or the token was cancelled as the run ended):
            // this caller takes no value, so its hold goes back.
            ReleasePartyHold(load);
            throw;
        }

        return load.Outcome();
    }

    /// <summary>Runs the factory of a load this caller claimed and completes the load, whoever still waits for it.</summary>
    private async Task RunAsync(PendingLoad load, Func<TKey, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken)
    {
        List<PendingRemoval>? removals = null;
        TValue value;
        bool factoryRan = false;
        try
        {
            if (!TryCompleteFromCache(load, out value!))
            {
                ValueTask<TValue> pending;

                // The frame flows into the factory's awaits (captured with its execution context) and is restored
                // here before this method awaits, so only the factory's own flow counts as "inside the load".
                LoadScope.Frame? previous = LoadScope.Enter(load);
                try
                {
                    factoryRan = true;
                    Interlocked.Increment(ref _counters.FactoryCalls);
                    pending = factory(load.Key, cancellationToken);
                }
                finally
                {
                    LoadScope.Exit(previous);
                }

                value = await pending.ConfigureAwait(false);
                StoreLoaded(load, value, ref removals);
            }
        }
        catch (Exception ex)
        {
            FailLoad(load, ex, factoryRan);
            throw;
        }

        CompleteLoad(load, value);
        Publish(removals);
    }

    /// <summary>
    /// Claims the load of <paramref name="key"/> for this caller, or joins the load already in flight as one more party.
    /// A factory asking for its own key is refused here, since waiting on its own load would never end.
    /// </summary>
    private PendingLoad ClaimOrJoin(TKey key, out bool claimed)
    {
        ConcurrentDictionary<TKey, PendingLoad> loads = Loads();
        while (true)
        {
            if (loads.TryGetValue(key, out PendingLoad? running))
            {
                if (LoadScope.IsActive(running))
                {
                    ThrowReentrant(key);
                }

                if (running.TryJoin())
                {
                    claimed = false;
                    return running;
                }

                // It completed and handed out its holds; it is on its way out of the table. Take it out and look again:
                // the claim below then finds the stored value (TryCompleteFromCache) instead of running a factory.
                loads.TryRemove(new KeyValuePair<TKey, PendingLoad>(key, running));
                continue;
            }

            var load = new PendingLoad(key, countsParties: _holds is not null);
            if (loads.TryAdd(key, load))
            {
                claimed = true;
                return load;
            }

            // Another caller claimed the key between our look and our claim: look again and join it instead.
        }
    }

    /// <summary>Waits, blocking, for a load this caller joined.</summary>
    private Loaded Await(PendingLoad load)
    {
        LoadScope.Wait wait = BeginWait(load);
        try
        {
            load.Completion.Task.GetAwaiter().GetResult();
        }
        finally
        {
            wait.Dispose();
        }

        return load.Outcome();
    }

    /// <summary>Waits for a load this caller joined, until it completes or <paramref name="cancellationToken"/> is cancelled.</summary>
    private async ValueTask<Loaded> AwaitAsync(PendingLoad load, CancellationToken cancellationToken)
    {
        LoadScope.Wait wait = BeginWait(load);
        try
        {
            await load.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Leave(load);
            throw;
        }
        finally
        {
            wait.Dispose();
        }

        return load.Outcome();
    }

    private LoadScope.Wait BeginWait(PendingLoad load)
    {
        try
        {
            return LoadScope.BeginWait(load, load.Key);
        }
        catch
        {
            Leave(load);
            throw;
        }
    }

    /// <summary>
    /// Completes the load with the live value already stored under its key, if there is one: a load may have completed
    /// between this caller's miss and its claim, and its factory must not run again.
    /// </summary>
    private bool TryCompleteFromCache(PendingLoad load, [MaybeNullWhen(false)] out TValue value)
    {
        if (_holds is null)
        {
            return TryPeekLive(load.Key, out value);
        }

        if (Find(load.Key) is not null)
        {
            lock (_lock)
            {
                if (FindLocked(load.Key, HashOf(load.Key)) is { } node
                    && (node is not TimedCacheNode<TKey, TValue> timed || !timed.IsExpired(Now())))
                {
                    value = node.Value;
                    CloseLocked(load, value);
                    return true;
                }
            }
        }

        value = default;
        return false;
    }

    private void StoreLoaded(PendingLoad load, TValue value, ref List<PendingRemoval>? removals)
    {
        if (value is null)
        {
            ThrowFactoryReturnedNull(load.Key);
        }

        try
        {
            CacheNode<TKey, TValue> node = NewNode(load.Key, value, HashOf(load.Key), Weigh(load.Key, value), ownExpiry: false);
            lock (_lock)
            {
                ThrowIfDisposed();

                // Held for every party before the write: an eviction or a rejection inside it must not dispose what the
                // callers are about to get, and neither can a write on another thread once the lock is released.
                CloseLocked(load, value);
                try
                {
                    load.Rejected = SetLocked(node, default, ref removals) == RemovalReason.Rejected;
                    load.Weight = node.Weight;
                }
                catch
                {
                    UncloseLocked(load, value);
                    throw;
                }
            }
        }
        catch when (IsOwned(value))
        {
            // The value was never stored: the cache owned it from the factory on, so it disposes it (a disposed cache
            // disposes what it is given), unless that instance is held elsewhere; then it reports why the load failed.
            bool dispose;
            lock (_lock)
            {
                dispose = !IsHeldLocked(value);
            }

            if (dispose)
            {
                DisposeValue(value);
            }

            throw;
        }
    }

    /// <summary>Refuses new parties and takes one hold on <paramref name="value"/> per party. Under the lock.</summary>
    private void CloseLocked(PendingLoad load, TValue value)
    {
        load.Value = value;
        int parties = load.Close();
        if (parties > 0 && IsOwned(value))
        {
            AddLeasesLocked(value, parties);
            load.Holds = parties;
        }
    }

    /// <summary>Gives back the holds <see cref="CloseLocked"/> took (the write failed before it changed anything). Under the lock.</summary>
    private void UncloseLocked(PendingLoad load, TValue value)
    {
        if (load.Holds > 0 && _holds!.TryGetValue(value, out ValueHolds? holds))
        {
            holds.Leases -= load.Holds;
            load.Holds = 0;
            ForgetIfUnheldLocked(value, holds);
        }
    }

    private void CompleteLoad(PendingLoad load, TValue value)
    {
        // Leave the in-flight table before waking waiters: a caller arriving now finds the stored value instead.
        _loads!.TryRemove(new KeyValuePair<TKey, PendingLoad>(load.Key, load));
        load.Completion.TrySetResult(value);
    }

    private void FailLoad(PendingLoad load, Exception exception, bool factoryRan)
    {
        if (factoryRan)
        {
            Interlocked.Increment(ref _counters.FactoryFailures);
        }

        // No hold was taken (or it was given back): parties that stop waiting now have nothing to give back.
        load.Close();
        _loads!.TryRemove(new KeyValuePair<TKey, PendingLoad>(load.Key, load));
        if (exception is OperationCanceledException cancelled)
        {
            load.Completion.TrySetCanceled(cancelled.CancellationToken);
        }
        else
        {
            load.Completion.TrySetException(exception);
        }

        // Nobody may be waiting; observe the task so an unobserved-exception event is not raised for it.
        _ = load.Completion.Task.Exception;
    }

    /// <summary>Publishes the loading party's removals; if that throws, the party takes no value, so its hold goes back first.</summary>
    private void PublishForParty(PendingLoad load, List<PendingRemoval>? removals)
    {
        try
        {
            Publish(removals);
        }
        catch
        {
            ReleasePartyHold(load);
            throw;
        }
    }

    /// <summary>A party stops waiting before it took its hold: it leaves the count, or, if holds were already taken, gives its own back.</summary>
    private void Leave(PendingLoad load)
    {
        if (load.TryLeave())
        {
            return;
        }

        // Closed: one hold may be (or is about to be) this party's. It is given back once the load has completed, on
        // whichever thread completes it; an exception from the value's Dispose there has no caller to go to.
        _ = load.Completion.Task.ContinueWith(
            static (_, state) =>
            {
                var (cache, load) = ((BoundedCache<TKey, TValue>, PendingLoad))state!;
                try
                {
                    cache.ReleasePartyHold(load);
                }
                catch (Exception)
                {
                }
            },
            (this, load),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void ReleasePartyHold(PendingLoad load)
    {
        if (load.Holds > 0 && ReleaseLease(load.Value!))
        {
            DisposeValue(load.Value!);
        }
    }

    private static void DisposeValue(TValue value)
    {
        if (value is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    [DoesNotReturn]
    private static void ThrowReentrant(TKey key)
        => throw new InvalidOperationException(
            $"The factory for key '{key}' asked the same cache for the same key while creating it, which would wait for itself forever. PendingLoad the value without going through the cache for this key.");

    [DoesNotReturn]
    private static void ThrowFactoryReturnedNull(TKey key)
        => throw new InvalidOperationException($"The factory for key '{key}' returned null; a bounded cache does not store null values. Nothing was cached.");

    [DoesNotReturn]
    private void ThrowRejected(TKey key, long weight)
        => throw new InvalidOperationException(
            $"The value loaded for key '{key}' weighs {weight}, more than MaximumWeight ({MaximumWeight}): it was not cached, and since the cache disposes the values it lets go of, it was disposed. Use GetOrAddLease to receive such a value in a lease that disposes it when released.");

    /// <summary>What a party of a load gets: the value, and whether one hold on it is this party's.</summary>
    private readonly record struct Loaded(TValue Value, bool Held, bool Rejected, long Weight);

    /// <summary>One in-flight load of a key: its completion, and the parties that will each take a hold on its value.</summary>
    private sealed class PendingLoad : CacheLoad
    {
        private const int Closed = -1;

        // Parties still to be served a hold, or Closed once the load completed (or failed). Counted only in caches
        // that dispose values; elsewhere there are no holds to hand out.
        private readonly bool _countsParties;
        private int _parties;

        public PendingLoad(TKey key, bool countsParties)
        {
            Key = key;
            _countsParties = countsParties;
            _parties = countsParties ? 1 : 0;
        }

        public TKey Key { get; }

        public TaskCompletionSource<TValue> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Written under the policy lock before the completion is set; read by parties after it completed.
        public TValue? Value;
        public int Holds;
        public bool Rejected;
        public long Weight;

        public bool TryJoin()
        {
            if (!_countsParties)
            {
                return true;
            }

            int parties = Volatile.Read(ref _parties);
            while (parties != Closed)
            {
                int seen = Interlocked.CompareExchange(ref _parties, parties + 1, parties);
                if (seen == parties)
                {
                    return true;
                }

                parties = seen;
            }

            return false;
        }

        public bool TryLeave()
        {
            if (!_countsParties)
            {
                return true;
            }

            int parties = Volatile.Read(ref _parties);
            while (parties != Closed)
            {
                int seen = Interlocked.CompareExchange(ref _parties, parties - 1, parties);
                if (seen == parties)
                {
                    return true;
                }

                parties = seen;
            }

            return false;
        }

        /// <summary>Refuses new parties; returns how many there were.</summary>
        public int Close() => _countsParties ? Math.Max(0, Interlocked.Exchange(ref _parties, Closed)) : 0;

        public Loaded Outcome() => new(Completion.Task.Result, Holds > 0, Rejected, Weight);
    }
}
