using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Events;

/// <summary>
/// The engine behind <see cref="WeakEventSource{TEventArgs}"/> and <see cref="AsyncWeakEventSource{TEventArgs}"/>:
/// the current <see cref="SubscriptionTable"/> generation (an append-only array of subscriptions that raises read
/// without a lock, and a hash index for O(1) removal), purging of subscriptions whose owner was collected, and the
/// block's counters.
/// </summary>
/// <remarks>
/// <code>
///  _table ──> Entries: [ e0 | e1(removed) | e2 | e3(owner collected) | e4 | (free) ... ]   Count = 5
///               ^ raises read Count, then iterate the entries' handles (no lock), skipping those that read null
///             buckets: hash ──> newest entry with that hash, Next ──> older ones (Remove: newest first)
///  add when full ──> purge the dead, then move the live entries into a new generation (twice the live count)
///  remove ──> unlink + clear the handle; when over half the used entries are dead, move into a smaller generation
/// </code>
/// Writers (add, remove, purge, clear) hold <c>_lock</c>. An entry is written before the generation's count is
/// published, and a new generation is filled before it is published; raises read the generation, then its count, so
/// they never see a count beyond what the generation they read was filled to. A generation is never changed below its
/// count except to clear handles, so a raise in flight keeps iterating the generation it captured; removals still take
/// effect in it at once because the generations share the handles and a removal clears the handle. Every
/// subscription's handle, weak or not, is a <see cref="DependentHandle"/> (held-strongly handlers get an owner that
/// never dies), which is what makes removal visible to every generation.
/// </remarks>
internal sealed class SubscriptionList
{
    private const int MinimumCapacity = 4;

    // The owner of handlers held strongly (static methods, non-capturing lambdas): it never dies, so neither do they
    // until removed.
    private static readonly object s_forever = new();

#if NET9_0_OR_GREATER
    private readonly Lock _lock = new();
#else
    private readonly object _lock = new();
#endif
    private SubscriptionTable _table = SubscriptionTable.Empty;
    private int _live;
    private int _weak;
    private long _reclamations;
    private int _purgedAtCollection = -1;
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

    /// <summary>Gets the capacity of the current generation (for tests that memory stays proportional to live subscriptions).</summary>
    internal int Capacity => Volatile.Read(ref _table).Capacity;

    /// <summary>Gets the current generation, for raises: read it, then its count, then its entries. Lock-free.</summary>
    public SubscriptionTable Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Volatile.Read(ref _table);
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
    /// Subscribes <paramref name="handler"/> (each part of a multicast delegate in order), tied to
    /// <paramref name="owner"/> when <paramref name="hasOwner"/>, else to the owner <see cref="HandlerOwner"/> finds.
    /// Every part is checked before any is added, so a rejected part adds nothing.
    /// </summary>
    public void AddHandler(Delegate handler, object? owner, bool hasOwner)
    {
        if (hasOwner)
        {
            HandlerOwner.ThrowIfNoLifetime(owner!, nameof(owner));
        }

        SynchronizationContext? context = CaptureContext ? SynchronizationContext.Current : null;
        if (HandlerOwner.IsSingleCast(handler))
        {
            Add(handler, hasOwner ? owner : HandlerOwner.Find(handler, nameof(handler)), context);
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
            Add(parts[i], owners[i], context);
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

    /// <summary>Removes every subscription.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            // The dropped generation keeps its handles (cleared) until no raise in flight can read them.
            _table.ReleaseAll();
            Volatile.Write(ref _table, SubscriptionTable.Empty);
            _live = 0;
            _weak = 0;
        }
    }

    /// <summary>
    /// Called by a raise that met <paramref name="nullHandlers"/> subscriptions with no handler: purges when some of
    /// them must be owners the GC collected rather than removals already accounted for.
    /// </summary>
    public void OnDeadSeen(int nullHandlers)
    {
        // A racy estimate on purpose (the raise may even have iterated an older generation): it only decides whether
        // to take the lock. Wrong either way costs one needless purge, or leaves the dead to the next raise, add or sweep.
        int tombstones = Volatile.Read(ref _table).Count - Volatile.Read(ref _live);
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

    /// <summary>Adds a subscription at the end (it will be invoked after every existing one).</summary>
    private void Add(Delegate handler, object? owner, SynchronizationContext? context)
    {
        bool weak = owner is not null;
        int hashKey = handler.GetHashCode();

        // Allocated before taking the lock: it is the costliest step of an add and needs no lock.
        var handle = new DependentHandle(owner ?? s_forever, handler);
        bool startWatching = false;
        try
        {
            lock (_lock)
            {
                SubscriptionTable table = _table;
                if (table.Count == table.Capacity)
                {
                    table = MakeRoomLocked();
                }

                table.AppendNew(handle, hashKey, context);
                _live++;
                if (weak)
                {
                    _weak++;
                    if (!_watchingCollections)
                    {
                        _watchingCollections = true;
                        startWatching = true;
                    }
                }
            }
        }
        catch
        {
            // Only an out-of-memory while growing can get here, before the generation took the handle over.
            handle.Dispose();
            throw;
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
        int hashKey = handler.GetHashCode();
        lock (_lock)
        {
            SubscriptionTable table = _table;
            int index = table.Find(handler, hashKey, out int previous, out object? owner);
            if (index < 0)
            {
                return false;
            }

            table.Unlink(index, previous);
            _live--;
            if (owner != s_forever)
            {
                _weak--;
            }

            if (table.Count > MinimumCapacity && table.Count - _live > table.Count / 2)
            {
                // Compacting once the dead pass half the used entries keeps removal O(1) amortized: the next
                // compaction needs as many removals again as there are survivors.
                CompactLocked();
            }

            return true;
        }
    }

    private SubscriptionTable MakeRoomLocked()
    {
        // The generation is full: drop subscribers the GC collected first, so a source whose subscribers come and go
        // without removing themselves does not grow. Purging only when full keeps adds O(1) amortized: the new
        // generation has room for at least as many adds again as there are live subscriptions. A subscriber can only
        // die in a collection, so without one since the last purge there is nothing to find (a burst of adds skips it).
        if (GC.CollectionCount(0) != _purgedAtCollection)
        {
            PurgeLocked();
        }

        SubscriptionTable table = _table;
        return table.Count < table.Capacity ? table : CompactLocked();
    }

    private int PurgeLocked()
    {
        // Every collection counts as a generation-0 one. Read before the walk: a collection during it is seen next time.
        _purgedAtCollection = GC.CollectionCount(0);
        SubscriptionTable table = _table;
        int purged = table.UnlinkDead();
        if (purged > 0)
        {
            _live -= purged;
            _weak -= purged;
            Interlocked.Add(ref _reclamations, purged);
            if (table.Count - _live > table.Count / 2)
            {
                CompactLocked();
            }
        }

        return purged;
    }

    private SubscriptionTable CompactLocked()
    {
        // A NEW generation, sized to twice the survivors (so the next compaction or growth is that many adds away, and
        // memory, index included, follows the live count down as well as up). Raises in flight keep the old one.
        int capacity = Math.Max(MinimumCapacity, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, _live * 2)));
        SubscriptionTable next = _table.MoveTo(capacity, CaptureContext);
        Volatile.Write(ref _table, next);
        return next;
    }
}
