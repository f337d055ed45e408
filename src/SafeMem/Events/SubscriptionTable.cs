using System.Runtime;
using System.Runtime.CompilerServices;
using SafeMem.Telemetry;

namespace SafeMem.Events;

/// <summary>
/// One generation of a <see cref="SubscriptionList"/>'s storage: subscriptions as structs in an append-only array
/// (what raises iterate), a hash index over them (what removals search), and ownership of their dependent handles.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why no object and no finalizer per subscription.</b> A subscription is an <see cref="Entry"/>: its
/// <see cref="DependentHandle"/> (owner ──keeps──&gt; handler), the handler's hash code and an index link. A removal
/// clears the handle but cannot free it: a raise may have read the entry's handle value from this array (or from an
/// older generation's copy) and be about to read through it, and a freed handle's slot can be reused for an unrelated
/// object. The garbage collector is the one party that knows when no raise can still be reading a generation, so the
/// handles are freed by the generation's finalizer: one finalizer per generation (per growth or compaction, so
/// amortized O(1/n) per subscription) instead of one per subscription, which costs every collection while it lives.
/// </para>
/// <para>
/// <b>Ownership across generations.</b> When the list grows or compacts, the live entries are copied into a new
/// generation, which takes over their handles (the old entries are marked <see cref="Moved"/>, so the old
/// generation's finalizer skips them); the old generation keeps the handles of the entries removed while it was
/// current. A raise still iterating an old generation may read a moved handle, so each generation references the
/// one that replaced it (<see cref="Successor"/>): a generation, and every handle it ever handed over, stays alive
/// as long as any older generation does. The chain points forward only, so nothing keeps an old generation alive
/// but the raises that captured it.
/// </para>
/// <para>
/// <b>Threading.</b> Entries are appended, linked, unlinked and moved under the list's lock. Raises read only
/// <see cref="Count"/> (published after the entry is written), <see cref="Entries"/>' handles and
/// <see cref="Contexts"/>, without a lock; they never read the index fields.
/// </para>
/// </remarks>
internal sealed class SubscriptionTable
{
    /// <summary><see cref="Entry.Next"/> of the last entry of a hash chain.</summary>
    private const int EndOfChain = -1;

    /// <summary><see cref="Entry.Next"/> of an entry removed, cleared or purged: unlinked, handle still owned here.</summary>
    private const int Removed = -2;

    /// <summary><see cref="Entry.Next"/> of an entry copied into the next generation, which now owns its handle.</summary>
    private const int Moved = -3;

    // Net dependent handles allocated and not yet freed, process-wide; striped, as every add on every thread counts.
    private static readonly StripedCounter s_allocatedHandles = new();

    private readonly int[] _buckets;
    private int _count;

    private SubscriptionTable(int capacity, bool withContexts)
    {
        Entries = new Entry[capacity];
        Contexts = withContexts ? new SynchronizationContext?[capacity] : null;

        // One bucket per entry (a load factor of at most one); the capacity is a power of two, so a mask finds it.
        _buckets = new int[capacity];
        if (capacity == 0)
        {
            GC.SuppressFinalize(this);
        }
    }

    ~SubscriptionTable()
    {
        // Runs once no raise, list or older generation can reach this generation: no handle read can be in flight.
        int freed = 0;
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref Entries[i];
            if (entry.Next != Moved)
            {
                entry.Handle.Dispose();
                freed++;
            }
        }

        s_allocatedHandles.Add(-freed);
    }

    /// <summary>Gets an empty generation with no room: the first add replaces it. Shared, never written.</summary>
    public static SubscriptionTable Empty { get; } = new(0, withContexts: false);

    /// <summary>Gets the number of dependent handles allocated and not yet freed, process-wide (for leak tests).</summary>
    internal static long AllocatedHandles => s_allocatedHandles.Sum();

    /// <summary>Gets the entries; the first <see cref="Count"/> are in use.</summary>
    public Entry[] Entries { get; }

    /// <summary>Gets the context each entry's handler is delivered on, when the list captures contexts.</summary>
    public SynchronizationContext?[]? Contexts { get; }

    /// <summary>Gets the number of entries in use (appended, whether live or not). Lock-free.</summary>
    public int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Volatile.Read(ref _count);
    }

    /// <summary>Gets the generation that took over this one's live handles, kept alive by this one (see the remarks).</summary>
    internal SubscriptionTable? Successor { get; private set; }

    /// <summary>Gets the number of entries this generation has room for.</summary>
    public int Capacity => Entries.Length;

    /// <summary>Creates a generation with room for <paramref name="capacity"/> entries (a power of two).</summary>
    public static SubscriptionTable Create(int capacity, bool withContexts) => new(capacity, withContexts);

    /// <summary>
    /// Appends a subscription that takes ownership of a new <paramref name="handle"/>, newest in its hash chain.
    /// Under the list's lock, with room left.
    /// </summary>
    public void AppendNew(DependentHandle handle, int hashKey, SynchronizationContext? context)
    {
        s_allocatedHandles.Increment();
        Append(handle, hashKey, context);
    }

    /// <summary>
    /// Returns the index of the newest live entry whose handler equals <paramref name="handler"/>, or -1; and the
    /// entry before it in its hash chain (for <see cref="Unlink"/>). Under the list's lock.
    /// </summary>
    public int Find(Delegate handler, int hashKey, out int previous, out object? owner)
    {
        previous = EndOfChain;
        Entry[] entries = Entries;
        for (int i = _buckets[hashKey & (entries.Length - 1)] - 1; i >= 0; i = entries[i].Next)
        {
            ref Entry entry = ref entries[i];
            if (entry.HashKey == hashKey)
            {
                // Entries whose owner was collected read as null and never match; the purge drops them.
                (object? target, object? dependent) = entry.Handle.TargetAndDependent;
                if (target is not null && dependent is Delegate existing && existing.Equals(handler))
                {
                    owner = target;
                    return i;
                }
            }

            previous = i;
        }

        owner = null;
        return -1;
    }

    /// <summary>
    /// Takes entry <paramref name="index"/> out of its hash chain and lets go of its handler at once (raises in flight
    /// read null from then on). Under the list's lock.
    /// </summary>
    public void Unlink(int index, int previous)
    {
        ref Entry entry = ref Entries[index];
        if (previous >= 0)
        {
            Entries[previous].Next = entry.Next;
        }
        else
        {
            _buckets[entry.HashKey & (Entries.Length - 1)] = entry.Next + 1;
        }

        Release(ref entry);
    }

    /// <summary>
    /// Unlinks and releases every entry whose owner the GC collected; returns how many. Under the list's lock.
    /// </summary>
    public int UnlinkDead()
    {
        int purged = 0;
        Entry[] entries = Entries;
        for (int bucket = 0; bucket < _buckets.Length; bucket++)
        {
            int previous = EndOfChain;
            int i = _buckets[bucket] - 1;
            while (i >= 0)
            {
                ref Entry entry = ref entries[i];
                int next = entry.Next;
                if (entry.Handle.Target is null)
                {
                    if (previous >= 0)
                    {
                        entries[previous].Next = next;
                    }
                    else
                    {
                        _buckets[bucket] = next + 1;
                    }

                    Release(ref entry);
                    purged++;
                }
                else
                {
                    previous = i;
                }

                i = next;
            }
        }

        return purged;
    }

    /// <summary>Releases every entry still linked (the generation is being dropped by a clear). Under the list's lock.</summary>
    public void ReleaseAll()
    {
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref Entries[i];
            if (entry.Next >= EndOfChain)
            {
                Release(ref entry);
            }
        }

        Array.Clear(_buckets);
    }

    /// <summary>
    /// Copies the linked entries, oldest first, into a new generation of <paramref name="capacity"/>, hands their
    /// handles over to it, and links this generation to it (see the type's remarks). Under the list's lock; the
    /// caller publishes the result.
    /// </summary>
    public SubscriptionTable MoveTo(int capacity, bool withContexts)
    {
        var next = new SubscriptionTable(capacity, withContexts);
        bool moved = false;
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref Entries[i];
            if (entry.Next >= EndOfChain)
            {
                next.Append(entry.Handle, entry.HashKey, Contexts?[i]);
                entry.Next = Moved;
                moved = true;
            }
        }

        // Before the caller publishes the new generation, so a raise holding this one keeps it alive from then on. Only
        // when something moved: the shared empty generation must never keep a list's storage alive.
        if (moved)
        {
            Successor = next;
        }

        return next;
    }

    private static void Release(ref Entry entry)
    {
        // Clearing, not freeing, the handle: see the type's remarks. The dependent is cleared too, so the handler and
        // its closure are released now rather than when the handle is freed.
        entry.Handle.Target = null;
        entry.Handle.Dependent = null;
        entry.Next = Removed;
    }

    private void Append(DependentHandle handle, int hashKey, SynchronizationContext? context)
    {
        int index = _count;
        ref Entry entry = ref Entries[index];
        entry.Handle = handle;
        entry.HashKey = hashKey;
        ref int bucket = ref _buckets[hashKey & (Entries.Length - 1)];
        entry.Next = bucket - 1;
        bucket = index + 1;
        if (Contexts is not null)
        {
            Contexts[index] = context;
        }

        // Publish the entry before the count (a raise that reads the new count must see the entry's handle).
        Volatile.Write(ref _count, index + 1);
    }

    /// <summary>One subscription: 16 bytes, no object of its own.</summary>
    internal struct Entry
    {
        /// <summary>Owner ──keeps──&gt; handler; for handlers held strongly the owner is an object that never dies.</summary>
        public DependentHandle Handle;

        /// <summary>The handler's <see cref="Delegate.GetHashCode"/>: equal delegates have equal codes, and it roots nothing.</summary>
        public int HashKey;

        /// <summary>The next older entry of the hash chain, <see cref="EndOfChain"/>, <see cref="Removed"/> or <see cref="Moved"/>.</summary>
        public int Next;
    }
}
