using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SafeMem.Telemetry;

namespace SafeMem.Caching;

/// <summary>
/// Records cache hits, in order, without a lock, an interlocked instruction or an allocation, so the LRU order can be
/// updated later under the policy lock; it also counts the hits, exactly.
/// </summary>
/// <remarks>
/// <para>
/// The buffer is split into stripes, and each stripe belongs to one thread (claimed once by compare-and-swap, found
/// again from the managed thread id, which is unique among live threads). Only its owner writes a stripe's slots and
/// its tail, so a plain store suffices and no recorded hit is lost; a single thread's hits stay in order, which keeps
/// single-threaded replay exact. The drainer (under the policy lock) only reads slots and advances the head.
/// </para>
/// <para>
/// The hit that fills a stripe asks its caller to drain (if it gets the policy lock at once). While a stripe stays full
/// it is not written, the recency update of each hit is dropped (which only makes concurrent LRU order approximate) and
/// a drain is asked for again every few hits. Hits are counted apart from the slots (every hit, recorded or not, adds
/// one to the stripe's count), so a dropped or skipped read is still counted. A thread that finds no stripe of its own
/// (more live readers than stripes) counts its hits on a shared striped counter and records no recency. Stripes are created on first use, so a cache read by few threads
/// costs little memory; a stripe whose owner thread died keeps its slot until a thread with the same id reuses it.
/// </para>
/// </remarks>
internal sealed class ReadBuffer
{
    internal const int StripeCapacity = 64;
    private const int Probes = 4;
    private const int RetryInterval = 16;

    // Environment.CurrentManagedThreadId costs far more than a thread-static read on some platforms, and this runs
    // on every hit; the id never changes for a thread, so each thread caches it once.
    [ThreadStatic]
    private static int t_threadId;

    private readonly Stripe?[] _stripes;
    private readonly int _mask;
    private readonly StripedCounter _unrecordedHits = new();

    public ReadBuffer()
    {
        int count = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount * 4, 16, 256));
        _stripes = new Stripe?[count];
        _mask = count - 1;
    }

    /// <summary>Gets the number of hits recorded (or counted) so far; exact when no hit is in flight.</summary>
    public long Hits
    {
        get
        {
            long sum = _unrecordedHits.Sum();
            for (int i = 0; i < _stripes.Length; i++)
            {
                if (Volatile.Read(ref _stripes[i]) is { } stripe)
                {
                    sum += Volatile.Read(ref stripe.Indices.Hits);
                }
            }

            return sum;
        }
    }

    /// <summary>
    /// Counts a hit of <paramref name="item"/> and records it; returns <see langword="false"/> when the stripe is full
    /// (the hit that fills it, then every so often while it stays full): the caller should drain.
    /// </summary>
    /// <param name="item">The item read.</param>
    /// <param name="alreadyFirst">
    /// True when the item is already the most recently used: if this thread has no recorded read pending either, the
    /// read would change nothing and is only counted (a hot key then never makes the stripe fill).
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Add(object item, bool alreadyFirst = false)
    {
        int threadId = t_threadId;
        if (threadId == 0)
        {
            threadId = t_threadId = Environment.CurrentManagedThreadId;
        }

        Stripe? stripe = _stripes[threadId & _mask];
        if (stripe is null || stripe.Owner != threadId)
        {
            return AddToOtherStripe(threadId, item, alreadyFirst);
        }

        return stripe.Add(item, alreadyFirst);
    }

    /// <summary>Hands every recorded item to <paramref name="apply"/>, each stripe in recording order. Call under the policy lock.</summary>
    public void Drain<TState>(TState state, Action<TState, object> apply)
    {
        var applier = new DelegateApplier<TState>(state, apply);
        Drain(ref applier);
    }

    /// <summary>
    /// Hands every recorded item to <paramref name="applier"/>, each stripe in recording order. Call under the policy
    /// lock. A struct applier is specialized by the JIT, so the per-item call inlines (this runs once per hit).
    /// </summary>
    public void Drain<TApplier>(ref TApplier applier)
        where TApplier : struct, IApplier
    {
        foreach (Stripe? stripe in _stripes)
        {
            if (stripe is not null)
            {
                DrainStripe(stripe, ref applier);
            }
        }
    }

    /// <summary>
    /// Hands the calling thread's recorded items to <paramref name="applier"/>, in recording order. Call under the
    /// policy lock. Enough for a write to see its own thread's reads in order (single-threaded exactness) without
    /// touching the cache lines other threads are writing.
    /// </summary>
    public void DrainCurrentThread<TApplier>(ref TApplier applier)
        where TApplier : struct, IApplier
    {
        int threadId = t_threadId;
        if (threadId == 0)
        {
            return;
        }

        for (int probe = 0; probe < Probes; probe++)
        {
            Stripe? stripe = Volatile.Read(ref _stripes[(threadId + probe) & _mask]);
            if (stripe is null)
            {
                return;
            }

            if (stripe.Owner == threadId)
            {
                DrainStripe(stripe, ref applier);
                return;
            }
        }
    }

    private static void DrainStripe<TApplier>(Stripe stripe, ref TApplier applier)
        where TApplier : struct, IApplier
    {
        long head = stripe.Indices.Head;
        long tail = Volatile.Read(ref stripe.Indices.Tail);
        if (head == tail)
        {
            return;
        }

        // Only the owner advances the tail, one written slot at a time, so head..tail are all written slots.
        // GetArrayDataReference skips the covariant element-address check (a helper call per item): the array is
        // exactly object?[] and the mask keeps the index in range.
        ref object? items = ref MemoryMarshal.GetArrayDataReference(stripe.Items);
        for (long i = head; i < tail; i++)
        {
            ref object? slot = ref Unsafe.Add(ref items, (int)i & (StripeCapacity - 1));
            object? item = slot;
            slot = null;
            if (item is not null)
            {
                applier.Apply(item);
            }
        }

        // The owner reads the head to know the slots below it are free again.
        Volatile.Write(ref stripe.Indices.Head, tail);
    }

    /// <summary>Forgets every recorded item (so the buffer roots nothing); counts are kept. Call under the policy lock.</summary>
    public void Clear()
    {
        foreach (Stripe? stripe in _stripes)
        {
            if (stripe is not null)
            {
                Array.Clear(stripe.Items);
                Volatile.Write(ref stripe.Indices.Head, Volatile.Read(ref stripe.Indices.Tail));
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AddToOtherStripe(int threadId, object item, bool alreadyFirst)
    {
        for (int probe = 0; probe < Probes; probe++)
        {
            ref Stripe? slot = ref _stripes[(threadId + probe) & _mask];
            Stripe? stripe = Volatile.Read(ref slot);
            if (stripe is null)
            {
                // Claim a free slot for this thread; if another thread wins the race, look at the stripe it installed.
                stripe = Interlocked.CompareExchange(ref slot, new Stripe(threadId), null) ?? slot;
            }

            if (stripe!.Owner == threadId)
            {
                return stripe.Add(item, alreadyFirst);
            }
        }

        _unrecordedHits.Increment();
        return true;
    }

    /// <summary>What a drain does with each recorded item.</summary>
    internal interface IApplier
    {
        void Apply(object item);
    }

    private readonly struct DelegateApplier<TState>(TState state, Action<TState, object> apply) : IApplier
    {
        public void Apply(object item) => apply(state, item);
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedIndices
    {
        // Written by the owner on every hit; padded so two stripes' owners never share a cache line.
        [FieldOffset(64)]
        public long Hits;

        // Written by the owner on every recorded (slot-writing) hit.
        [FieldOffset(72)]
        public long Tail;

        // Written by the drainer only.
        [FieldOffset(80)]
        public long Head;
    }

    private sealed class Stripe(int owner)
    {
        public readonly int Owner = owner;
        public readonly object?[] Items = new object?[StripeCapacity];
        public PaddedIndices Indices;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Add(object item, bool alreadyFirst)
        {
            // Only the owner writes the count and the tail: plain increments are exact.
            Volatile.Write(ref Indices.Hits, Indices.Hits + 1);
            long tail = Indices.Tail;
            long head = Volatile.Read(ref Indices.Head);

            // With nothing of this thread pending, moving the first item to the front is a no-op, even in order: the hit
            // is only counted and takes no slot, so a hot key neither fills the stripe nor costs a drain.
            if (alreadyFirst && tail == head)
            {
                return true;
            }

            if (tail - head >= StripeCapacity)
            {
                // Still full: the drain asked for when it filled did not get the lock (a writer held it). Ask again only
                // now and then, so a reader does not hammer the contended lock's cache line on every hit meanwhile.
                return (Indices.Hits & (RetryInterval - 1)) != 0;
            }

            // Skips the covariant array-store check (a helper call): the array is exactly object?[].
            Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Items), (int)tail & (StripeCapacity - 1)) = item;

            // The release store publishes the slot before the drainer can see the new tail. The hit that fills the
            // stripe asks for the drain at once, so on a single thread (no contention) a read never finds it full and
            // no recency update is dropped.
            Volatile.Write(ref Indices.Tail, tail + 1);
            return tail + 1 - head < StripeCapacity;
        }
    }
}
