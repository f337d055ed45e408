using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Events;

/// <summary>
/// The engine behind <see cref="WeakEventSource{TEventArgs}"/> and <see cref="AsyncWeakEventSource{TEventArgs}"/>:
/// an append-only slot array that raises read without a lock, an index for O(1) removal, purging of subscriptions
/// whose owner was collected, and the block's counters.
/// </summary>
/// <remarks>
/// <code>
///  _slots:  [ s0 | s1(removed) | s2 | s3(owner collected) | s4 | null ... ]   _count = 5 used slots
///             ^ raises iterate 0.._count they read at start, skipping subscriptions whose Handler is null
///  _newestByKey: HashKey -> newest subscription with that key, Older/Newer chain the rest (Remove: newest first)
/// </code>
/// Writers (add, remove, purge) hold <c>_lock</c>. A slot is written before <c>_count</c> is published, and a
/// replacement array (grown, or compacted when more than half of it is tombstones) is published before the count
/// that goes with it; raises read the count first, then the array, so they never see a count beyond what the array
/// they read was filled to. An array is never changed below its published count once it is replaced, so a raise in
/// flight keeps iterating the array it captured; removals still take effect in it at once because they clear the
/// shared <see cref="Subscription"/>, not the slot.
/// </remarks>
internal sealed class SubscriptionList
{
    private const int MinimumCapacity = 4;

    private readonly object _lock = new();
    private readonly Dictionary<int, Subscription> _newestByKey = [];
    private Subscription?[] _slots = [];
    private int _count;
    private int _live;
    private int _weak;
    private long _reclamations;
    private bool _watchingCollections;
    private int _sweepQueued;

    private SubscriptionList(string name, bool captureContext)
    {
        Name = name;
        CaptureContext = captureContext;
    }

    /// <summary>Gets the name reported as the <c>safemem.name</c> tag.</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether subscriptions capture the current <see cref="SynchronizationContext"/>.</summary>
    public bool CaptureContext { get; }

    /// <summary>Gets the raise counter.</summary>
    public StripedCounter Raises { get; } = new();

    /// <summary>Gets the counter of handler invocations that threw.</summary>
    public StripedCounter Failures { get; } = new();

    /// <summary>Gets the number of subscriptions purged because their owner was collected.</summary>
    public long Reclamations => Interlocked.Read(ref _reclamations);

    /// <summary>Gets the number of live subscriptions, after purging those whose owner was collected. O(n).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                PurgeLocked();
                return _live;
            }
        }
    }

    /// <summary>Gets the length of the slot array (for tests that memory stays proportional to live subscriptions).</summary>
    internal int Capacity => Volatile.Read(ref _slots).Length;

    /// <summary>Gets the capacity of the removal index (for the same tests).</summary>
    internal int IndexCapacity
    {
        get
        {
            lock (_lock)
            {
                return _newestByKey.EnsureCapacity(0);
            }
        }
    }

    /// <summary>Creates a list from validated options and registers it with the instruments of their meter.</summary>
    public static SubscriptionList Create(WeakEventSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string name = InstanceNames.Resolve(options.Name, "event");
        var list = new SubscriptionList(name, options.CaptureSynchronizationContext);
        InstrumentRegistry<SubscriptionList>
            .For(SafeMemMeter.Resolve(options.MeterFactory), static registry => DefineInstruments(registry))
            .Register(list, name);

        // The registration is not kept: sources are not disposable, and the registry holds the list weakly, so
        // reporting simply stops when the source is collected.
        return list;
    }

    /// <summary>
    /// Captures what a raise iterates: the slots array and how many of its slots were in use.
    /// Allocation-free and lock-free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Subscription?[] Snapshot(out int count)
    {
        // Count before array: see the type's remarks. A compaction may publish a smaller array after we read the
        // count, so the count is clamped to the array we actually got; its unused tail is null.
        int published = Volatile.Read(ref _count);
        Subscription?[] slots = Volatile.Read(ref _slots);
        count = Math.Min(published, slots.Length);
        return slots;
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> (each part of a multicast delegate in order), tied to
    /// <paramref name="owner"/> when <paramref name="hasOwner"/>, else to the owner <see cref="HandlerOwner"/> finds.
    /// Every part is checked before any is added, so a rejected part adds nothing.
    /// </summary>
    public void AddHandler(Delegate handler, object? owner, bool hasOwner)
    {
        SynchronizationContext? context = CaptureContext ? SynchronizationContext.Current : null;
        if (HandlerOwner.IsSingleCast(handler))
        {
            Add(new Subscription(handler, hasOwner ? owner : HandlerOwner.Find(handler, nameof(handler)), context));
            return;
        }

        Delegate[] parts = handler.GetInvocationList();
        object?[] owners = new object?[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            owners[i] = hasOwner ? owner : HandlerOwner.Find(parts[i], nameof(handler));
        }

        for (int i = 0; i < parts.Length; i++)
        {
            Add(new Subscription(parts[i], owners[i], context));
        }
    }

    /// <summary>
    /// Unsubscribes <paramref name="handler"/>: the newest matching subscription, or for a multicast delegate one
    /// per part, last part first. Returns whether anything was removed.
    /// </summary>
    public bool RemoveHandler(Delegate handler)
    {
        if (HandlerOwner.IsSingleCast(handler))
        {
            return Remove(handler);
        }

        Delegate[] parts = handler.GetInvocationList();
        bool removed = false;
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            removed |= Remove(parts[i]);
        }

        return removed;
    }

    /// <summary>Adds a subscription at the end (it will be invoked after every existing one).</summary>
    private void Add(Subscription subscription)
    {
        bool startWatching = false;
        lock (_lock)
        {
            if (_count == _slots.Length)
            {
                MakeRoomLocked();
            }

            _slots[_count] = subscription;

            // Publish the slot before the count (a raise that reads the new count must see the slot).
            Volatile.Write(ref _count, _count + 1);
            _live++;
            if (_newestByKey.TryGetValue(subscription.HashKey, out Subscription? newest))
            {
                newest.Newer = subscription;
                subscription.Older = newest;
            }

            _newestByKey[subscription.HashKey] = subscription;
            if (subscription.IsWeak)
            {
                _weak++;
                if (!_watchingCollections)
                {
                    _watchingCollections = true;
                    startWatching = true;
                }
            }
        }

        if (startWatching)
        {
            // Sweep after full collections, so subscribers collected from a source that is never raised nor added to
            // again are still purged. Started lazily: sources without weak subscriptions cost the GC nothing.
            GcNotification.Register(this, static list => list.OnFullCollection());
        }
    }

    /// <summary>
    /// Removes the newest live subscription whose handler equals <paramref name="handler"/> (same target and method).
    /// </summary>
    private bool Remove(Delegate handler)
    {
        int key = handler.GetHashCode();
        lock (_lock)
        {
            if (!_newestByKey.TryGetValue(key, out Subscription? candidate))
            {
                return false;
            }

            for (; candidate is not null; candidate = candidate.Older)
            {
                // Subscriptions whose owner was collected read as null and never match; the purge drops them.
                if (candidate.Handler is { } existing && existing.Equals(handler))
                {
                    RemoveLocked(candidate);
                    if (_count > MinimumCapacity && _count - _live > _count / 2)
                    {
                        // Compacting once tombstones pass half the used slots keeps removal O(1) amortized: the next
                        // compaction needs as many removals again as there are survivors.
                        CompactLocked();
                    }

                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Removes every subscription.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            for (int i = 0; i < _count; i++)
            {
                Subscription subscription = _slots[i]!;
                if (!subscription.IsRemoved)
                {
                    subscription.Release();
                }
            }

            _newestByKey.Clear();
            _live = 0;
            _weak = 0;

            // A new (empty) array, not a cleared one: raises in flight keep iterating what they captured.
            Volatile.Write(ref _slots, []);
            Volatile.Write(ref _count, 0);
        }
    }

    /// <summary>
    /// Called by a raise that met <paramref name="nullHandlers"/> subscriptions with no handler: purges when some of
    /// them must be owners the GC collected rather than removals already accounted for.
    /// </summary>
    public void OnDeadSeen(int nullHandlers)
    {
        // A racy estimate on purpose: it only decides whether to take the lock. Wrong either way costs one needless
        // purge, or leaves the dead to the next raise, add or sweep.
        int tombstones = Volatile.Read(ref _count) - Volatile.Read(ref _live);
        if (nullHandlers > tombstones)
        {
            lock (_lock)
            {
                PurgeLocked();
            }
        }
    }

    /// <summary>Rethrows the one handler exception as it was thrown, or several in an <see cref="AggregateException"/>.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowHandlerFailures(Exception first, List<Exception>? all)
    {
        if (all is null)
        {
            ExceptionDispatchInfo.Throw(first);
        }

        throw new AggregateException("More than one event handler threw; every handler still ran.", all);
    }

    /// <summary>Purges subscriptions whose owner was collected; returns how many.</summary>
    internal int Purge()
    {
        lock (_lock)
        {
            return PurgeLocked();
        }
    }

    private static void DefineInstruments(InstrumentRegistry<SubscriptionList> registry)
    {
        registry.CreateObservableUpDownCounter(
            InstrumentNames.For("event", "subscription.count"),
            InstrumentUnits.Subscriptions,
            "Live subscriptions of a weak event source (subscribers the GC collected are purged before reading).",
            static list => list.Count);
        registry.CreateObservableCounter(
            InstrumentNames.For("event", "reclamations"),
            InstrumentUnits.Subscriptions,
            "Subscriptions purged because the garbage collector collected their subscriber.",
            static list => list.Reclamations);
        registry.CreateObservableCounter(
            InstrumentNames.For("event", "raises"),
            InstrumentUnits.Raises,
            "Times the event was raised.",
            static list => list.Raises.Sum());
        registry.CreateObservableCounter(
            InstrumentNames.For("event", "handler.failures"),
            InstrumentUnits.Failures,
            "Handler invocations that threw (or whose task faulted or was cancelled).",
            static list => list.Failures.Sum());
    }

    private bool OnFullCollection()
    {
        // Runs on the finalizer thread. The lock is held for two field accesses and no user code runs under it, so
        // the finalizer thread cannot be kept waiting long. It is needed so that an Add that sees
        // _watchingCollections still true is guaranteed this registration continues (and re-registers otherwise).
        lock (_lock)
        {
            if (_weak == 0)
            {
                _watchingCollections = false;
                return false;
            }
        }

        // At most one sweep queued at a time; the sweep itself runs on the thread pool, not the finalizer thread.
        if (Interlocked.Exchange(ref _sweepQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static list => list.Sweep(), this, preferLocal: false);
        }

        return true;
    }

    private void Sweep()
    {
        Volatile.Write(ref _sweepQueued, 0);
        Purge();
    }

    private void MakeRoomLocked()
    {
        // The array is full: drop subscribers the GC collected first, so a source whose subscribers come and go
        // without removing themselves does not grow. Purging only when full keeps adds O(1) amortized: a purge
        // that frees little is followed by doubling, so the next one is as many adds away as there are slots.
        PurgeLocked();
        if (_slots.Length > 0 && _live <= _slots.Length / 2)
        {
            if (_count == _slots.Length)
            {
                CompactLocked();
            }

            return;
        }

        var grown = new Subscription?[Math.Max(MinimumCapacity, _slots.Length * 2)];
        Array.Copy(_slots, grown, _count);

        // The old array stays intact for raises in flight; the count is unchanged so the pair stays consistent.
        Volatile.Write(ref _slots, grown);
    }

    private int PurgeLocked()
    {
        int purged = 0;
        for (int i = 0; i < _count; i++)
        {
            Subscription subscription = _slots[i]!;
            if (!subscription.IsRemoved && !subscription.IsAlive)
            {
                RemoveLocked(subscription);
                purged++;
            }
        }

        if (purged > 0)
        {
            Interlocked.Add(ref _reclamations, purged);
            if (_count - _live > _count / 2)
            {
                CompactLocked();
            }
        }

        return purged;
    }

    private void RemoveLocked(Subscription subscription)
    {
        subscription.Release();
        _live--;
        if (subscription.IsWeak)
        {
            _weak--;
        }

        Subscription? older = subscription.Older;
        Subscription? newer = subscription.Newer;
        if (newer is not null)
        {
            newer.Older = older;
        }
        else if (older is not null)
        {
            _newestByKey[subscription.HashKey] = older;
        }
        else
        {
            _newestByKey.Remove(subscription.HashKey);
        }

        if (older is not null)
        {
            older.Newer = newer;
        }

        subscription.Older = null;
        subscription.Newer = null;
    }

    private void CompactLocked()
    {
        // A NEW array, sized to twice the survivors (so the next compaction or growth is that many adds away, and
        // memory follows the live count down as well as up). Raises in flight keep the old one.
        int capacity = Math.Max(MinimumCapacity, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, _live * 2)));
        var compacted = new Subscription?[capacity];
        int next = 0;
        for (int i = 0; i < _count; i++)
        {
            Subscription subscription = _slots[i]!;
            if (!subscription.IsRemoved)
            {
                compacted[next++] = subscription;
            }
        }

        // Array before count: a raise reading the new (smaller) count must get the new array.
        Volatile.Write(ref _slots, compacted);
        Volatile.Write(ref _count, next);

        // A dictionary never shrinks by itself: after many subscribers left, trim the index too, so the source's
        // memory follows its live subscriptions down. Rare (only when far oversized) and O(live), like the copy above.
        if (_newestByKey.EnsureCapacity(0) > Math.Max(16, _newestByKey.Count * 4))
        {
            _newestByKey.TrimExcess();
        }
    }
}
