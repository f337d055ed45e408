using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Registries;

/// <summary>
/// A map from ordinary keys (ids, names, anything with value equality) to objects held weakly: the "one live instance
/// per id" registry, and the leak-free replacement for a global <c>static Dictionary&lt;int, Session&gt;</c> that
/// only ever grows.
/// </summary>
/// <typeparam name="TKey">The type of the keys, compared with the registry's <see cref="IEqualityComparer{T}"/>.</typeparam>
/// <typeparam name="TValue">The type of the values.</typeparam>
/// <remarks>
/// <para>
/// <b>Held strongly:</b> the keys, and one small slot per key. <b>Held weakly:</b> every value. An entry whose value
/// the garbage collector has collected counts as absent at once (<c>TryGet</c> misses, <c>GetOrAdd</c> creates a new
/// value), and its slot is purged later: amortized on writes (when the map has doubled since the last purge) and after
/// every full (generation 2) collection, on the thread pool, so the map stays proportional to the live values even if
/// the registry is never called again. Keys are ordinary keys: the registry uses the comparer given at construction
/// (<see cref="EqualityComparer{T}.Default"/> if none). A key that refers to its value keeps the value alive: keep
/// keys small (ids, names).
/// </para>
/// <para>
/// <b>Count and enumeration</b> walk the map: O(n). They see a value until the garbage collector has collected it
/// (after <c>GC.Collect()</c> returns; no finalizer has to run). Enumeration is weakly consistent, like
/// <see cref="ConcurrentDictionary{TKey, TValue}"/>'s: it never throws because of concurrent writes, may or may not
/// see changes made while it runs, yields only live values, and holds only the current value strongly.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. <c>TryGet</c> and a <c>GetOrAdd</c> hit are
/// lock-free and allocation-free. Creation is serialized per key: <c>GetOrAdd</c> runs its factory under that key's
/// lock, so the factory runs at most once per key at a time and concurrent callers for the key wait and share the one
/// instance it returns. Callers for other keys are not blocked. <see cref="Remove"/> waits for a factory that is
/// running for the same key.
/// </para>
/// <para>
/// <b>Factories:</b> a factory that throws stores nothing; the exception propagates to its caller, and a caller that
/// was waiting for that key then runs its own factory. A factory that returns <see langword="null"/> gets an
/// <see cref="InvalidOperationException"/> (a weakly held null is indistinguishable from a collected value). A
/// factory that calls <c>GetOrAdd</c>, <c>TryAdd</c> or <c>Remove</c> for the same key on the same registry gets an
/// <see cref="InvalidOperationException"/> instead of a deadlock. A factory may use other keys, but two factories
/// that wait on each other's keys deadlock, as two nested locks taken in opposite orders do.
/// </para>
/// <para><b>Disposal:</b> the type is not <see cref="IDisposable"/>; its telemetry and GC registrations end when it is collected.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}")]
public sealed class WeakValueRegistry<TKey, TValue> : IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : notnull
    where TValue : class
{
    private const int MinimumPurgeThreshold = 32;

    private readonly ConcurrentDictionary<TKey, Slot> _map;
    private readonly WeakCollectionCounters<RegistryKind> _counters;
    private int _slotCount;
    private int _purgeThreshold = MinimumPurgeThreshold;
    private int _purging;
    private int _purgeQueued;

    /// <summary>Creates a registry with a generated name (<c>registry-1</c>, ...) that reports to the shared SafeMem meter.</summary>
    public WeakValueRegistry()
        : this(new RegistryOptions())
    {
    }

    /// <summary>Creates a registry with the given name that reports to the shared SafeMem meter.</summary>
    /// <param name="name">The <c>safemem.name</c> tag of this instance's measurements.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public WeakValueRegistry(string name)
        : this(new RegistryOptions { Name = name ?? throw new ArgumentNullException(nameof(name)) })
    {
    }

    /// <summary>Creates a registry with the given options and key comparer.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <param name="comparer">Compares keys; <see langword="null"/> for <see cref="EqualityComparer{T}.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public WeakValueRegistry(RegistryOptions options, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = InstanceNames.Resolve(options.Name, "registry");
        _map = new ConcurrentDictionary<TKey, Slot>(comparer);
        _counters = new WeakCollectionCounters<RegistryKind>(CountLive, Name, options.MeterFactory);
        // The sweep that does not depend on being called. The notification holds this registry weakly and stops
        // when it is collected; the callback runs on the finalizer thread, so it only queues the purge.
        GcNotification.Register(this, static registry => registry.OnFullCollection());
    }

    /// <summary>Gets the instance name (the <c>safemem.name</c> tag).</summary>
    public string Name { get; }

    /// <summary>Gets the number of live values. O(n): see the type's remarks for when it is exact.</summary>
    public int Count => CountLive();

    /// <summary>Gets the comparer that decides key equality.</summary>
    public IEqualityComparer<TKey> Comparer => _map.Comparer;

    /// <summary>Slots held, live or dead (what the purge keeps proportional to the live values).</summary>
    internal int SlotCount => Volatile.Read(ref _slotCount);

    /// <summary>Gets the live value of <paramref name="key"/>, if it has one.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The live value, or <see langword="null"/> when there is none.</param>
    /// <returns><see langword="true"/> if <paramref name="key"/> has a value the garbage collector has not collected.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_map.TryGetValue(key, out Slot? slot))
        {
            return slot.TryGetTarget(out value);
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Gets the live value of <paramref name="key"/>, or creates it with <paramref name="factory"/>, which runs at
    /// most once per key at a time (concurrent callers for the key share its result).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value when there is no live one; must not return <see langword="null"/>.</param>
    /// <returns>The one live value of <paramref name="key"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// <paramref name="factory"/> returned <see langword="null"/>, or re-entered the registry for the same key.
    /// </exception>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        return TryGetLive(key, out TValue? value) ? value : GetOrAddSlow(key, static (k, f) => f(k), factory);
    }

    /// <summary>
    /// Gets the live value of <paramref name="key"/>, or creates it with <paramref name="factory"/>; the state-passing
    /// overload, so the factory can be <see langword="static"/> and allocate no closure.
    /// </summary>
    /// <typeparam name="TArg">The type of the state passed to the factory.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="factory">Creates the value when there is no live one; must not return <see langword="null"/>.</param>
    /// <param name="factoryArgument">Passed to <paramref name="factory"/>.</param>
    /// <returns>The one live value of <paramref name="key"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// <paramref name="factory"/> returned <see langword="null"/>, or re-entered the registry for the same key.
    /// </exception>
    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        return TryGetLive(key, out TValue? value) ? value : GetOrAddSlow(key, factory, factoryArgument);
    }

    /// <summary>Registers <paramref name="value"/> under <paramref name="key"/> unless the key has a live value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, held weakly.</param>
    /// <returns><see langword="true"/> if it was added, <see langword="false"/> if the key already has a live value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Called from a factory creating the value of the same key.</exception>
    public bool TryAdd(TKey key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        while (true)
        {
            Slot slot = GetOrAddSlot(key);
            lock (slot)
            {
                if (slot.Retired)
                {
                    // Purged or removed between the lookup and the lock: see GetOrAddSlow.
                    continue;
                }

                ThrowIfCreatingOnThisThread(slot);
                if (slot.TryGetTarget(out _))
                {
                    return false;
                }

                slot.SetTarget(value);
                _counters.RecordAddition();
                return true;
            }
        }
    }

    /// <summary>Removes the entry of <paramref name="key"/>, waiting for a factory running for that key to finish first.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if the key had a live value and no longer has one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Called from a factory creating the value of the same key.</exception>
    public bool Remove(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        while (_map.TryGetValue(key, out Slot? slot))
        {
            lock (slot)
            {
                if (slot.Retired)
                {
                    // Another remover or the purge retired it after our lookup; a newer slot may hold a live value.
                    continue;
                }

                ThrowIfCreatingOnThisThread(slot);
                bool live = slot.TryGetTarget(out _);
                if (live)
                {
                    // Counted before the value disappears: see WeakCollectionCounters for why this order.
                    _counters.RecordRemoval();
                }

                Retire(key, slot);
                return live;
            }
        }

        return false;
    }

    /// <summary>Returns a snapshot of this instance's figures. O(n): the live count is a walk.</summary>
    /// <returns>The live count, additions, removals and reclamations.</returns>
    public RegistryStatistics GetStatistics() => RegistryStatistics.From(_counters.Read());

    /// <summary>Enumerates the entries whose value is live. O(n); weakly consistent (see the type's remarks).</summary>
    /// <returns>An enumerator over the live entries.</returns>
    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator()
    {
        foreach (KeyValuePair<TKey, Slot> entry in _map)
        {
            if (entry.Value.TryGetTarget(out TValue? value))
            {
                yield return new KeyValuePair<TKey, TValue>(entry.Key, value);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Drops the slots of collected values. Runs amortized on writes, after full collections, and from tests.</summary>
    internal void Purge()
    {
        // One purge at a time is enough; a writer that finds one running simply goes on.
        if (Interlocked.CompareExchange(ref _purging, 1, 0) != 0)
        {
            return;
        }

        try
        {
            foreach (KeyValuePair<TKey, Slot> entry in _map)
            {
                Slot slot = entry.Value;
                if (slot.IsAlive)
                {
                    continue;
                }

                // A held lock means the slot is being filled or removed right now: skip it rather than wait behind a
                // factory; the next purge sees it. TryEnter is re-entrant, so a purge triggered from inside a factory
                // on this thread also gets here: CreatorThreadId (below) keeps it from retiring that factory's slot.
                if (!Monitor.TryEnter(slot))
                {
                    continue;
                }

                try
                {
                    if (!slot.Retired && slot.CreatorThreadId == 0 && !slot.IsAlive)
                    {
                        Retire(entry.Key, slot);
                    }
                }
                finally
                {
                    Monitor.Exit(slot);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _purgeThreshold, Math.Max(MinimumPurgeThreshold, 2 * Volatile.Read(ref _slotCount)));
            Volatile.Write(ref _purging, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryGetLive(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_map.TryGetValue(key, out Slot? slot))
        {
            return slot.TryGetTarget(out value);
        }

        value = null;
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TValue GetOrAddSlow<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg argument)
    {
        while (true)
        {
            Slot slot = GetOrAddSlot(key);
            lock (slot)
            {
                if (slot.Retired)
                {
                    // A purge or Remove retired this slot between our lookup and the lock. A retired slot is no longer
                    // in the map, so a value stored in it would be invisible and a second instance could be created
                    // for the key: start over with whatever slot the map holds now.
                    continue;
                }

                if (slot.TryGetTarget(out TValue? existing))
                {
                    // Created by the caller we waited for: share its instance.
                    return existing;
                }

                ThrowIfCreatingOnThisThread(slot);
                slot.CreatorThreadId = Environment.CurrentManagedThreadId;
                TValue created;
                try
                {
                    created = factory(key, argument) ?? ThrowFactoryReturnedNull(key);
                }
                finally
                {
                    slot.CreatorThreadId = 0;
                }

                slot.SetTarget(created);
                // Counted after the value is visible: see WeakCollectionCounters for why this order.
                _counters.RecordAddition();
                return created;
            }
        }
    }

    private Slot GetOrAddSlot(TKey key)
    {
        if (_map.TryGetValue(key, out Slot? slot))
        {
            return slot;
        }

        var fresh = new Slot();
        slot = _map.GetOrAdd(key, fresh);
        if (ReferenceEquals(slot, fresh))
        {
            // Amortized purge: once the map has doubled since the last purge, drop the dead slots. Runs before the
            // caller takes any slot lock, so it never waits on a factory (it skips busy slots anyway).
            if (Interlocked.Increment(ref _slotCount) >= Volatile.Read(ref _purgeThreshold))
            {
                Purge();
            }
        }

        return slot;
    }

    /// <summary>Takes <paramref name="slot"/> out of the map for good. Caller holds the slot's lock.</summary>
    private void Retire(TKey key, Slot slot)
    {
        slot.Retired = true;
        slot.SetTarget(null);
        // Slots leave the map only here, under their own lock, so the map still maps key to this very slot; the
        // conditional removal is a guard, not a race we expect to lose.
        if (_map.TryRemove(new KeyValuePair<TKey, Slot>(key, slot)))
        {
            Interlocked.Decrement(ref _slotCount);
        }
    }

    private int CountLive()
    {
        int count = 0;
        foreach (KeyValuePair<TKey, Slot> entry in _map)
        {
            if (entry.Value.IsAlive)
            {
                count++;
            }
        }

        return count;
    }

    private bool OnFullCollection()
    {
        // On the finalizer thread: only queue the work, and at most one purge at a time.
        if (Volatile.Read(ref _slotCount) > 0 && Interlocked.CompareExchange(ref _purgeQueued, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static registry =>
                {
                    Volatile.Write(ref registry._purgeQueued, 0);
                    registry.Purge();
                },
                this,
                preferLocal: false);
        }

        return true;
    }

    private static void ThrowIfCreatingOnThisThread(Slot slot)
    {
        // Monitor locks are re-entrant, so without this check a factory re-entering for its own key would recurse
        // into the factory again instead of waiting (and a waiting design would deadlock).
        if (slot.CreatorThreadId == Environment.CurrentManagedThreadId)
        {
            ThrowReentrant();
        }
    }

    [DoesNotReturn]
    private static void ThrowReentrant()
        => throw new InvalidOperationException(
            "The value factory used the registry for the same key while creating that key's value. A factory must not depend on its own result.");

    [DoesNotReturn]
    private static TValue ThrowFactoryReturnedNull(TKey key)
        => throw new InvalidOperationException($"The value factory returned null for key '{key}'. A weak-value registry holds objects only.");

    /// <summary>
    /// One key's weakly held value and the lock that serializes its creation. <see cref="Retired"/> and
    /// <see cref="CreatorThreadId"/> are read and written only under the slot's lock.
    /// </summary>
    private sealed class Slot
    {
        private readonly WeakReference<TValue?> _value = new(null);

        public bool Retired;

        public int CreatorThreadId;

        public bool IsAlive => _value.TryGetTarget(out _);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryGetTarget([MaybeNullWhen(false)] out TValue value) => _value.TryGetTarget(out value);

        public void SetTarget(TValue? value) => _value.SetTarget(value);
    }
}
