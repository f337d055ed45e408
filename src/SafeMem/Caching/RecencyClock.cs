using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SafeMem.Caching;

/// <summary>
/// Counts a cache's hits, exactly, and hands out the recency stamps that order its entries, without a lock, an
/// interlocked instruction, an allocation or a store that another reading thread shares.
/// </summary>
/// <remarks>
/// <para>
/// A stamp is <c>(epoch &lt;&lt; SequenceBits) | sequence</c>. The epoch is cache-wide and moves forward on every write
/// (under the policy lock) and whenever a thread has used up its sequence numbers within one epoch; the sequence is the
/// reading thread's own count of hits in that epoch, from 1, and 0 in a write's stamp. On one thread, stamps therefore strictly increase in the order of
/// the operations, so ordering entries by stamp is exact LRU. Between threads, hits within the same epoch are ordered
/// by each thread's own count, not by time: concurrent order is approximate, as it is for any cache that takes no lock
/// on reads. Stamps are compared by signed difference, so the 64-bit counter may wrap.
/// </para>
/// <para>
/// Each thread that reads gets a slot of its own, at the index of its managed thread id (unique among live threads, and
/// small: the runtime hands out the lowest free one), created on its first hit and padded so two threads never write
/// one cache line. Only the thread holding that id writes a slot, so plain stores suffice and no hit is lost. A slot
/// whose thread died keeps its count (the hits happened) and is carried on by the next thread given the same id. The
/// slot array costs a reference per thread id in use, and a slot (about 150 bytes) per thread that ever read.
/// </para>
/// <para>
/// Under the TinyLfu policy (<see cref="RecencyClock(bool)"/> with <c>buffersReads</c>), a hit is not stamped but
/// recorded (<see cref="TryRecord"/>) in the slot's own ring of <see cref="ReadBufferSize"/> nodes: the owner writes
/// the node and then moves its tail with a release store; a writer holding the policy lock drains every ring
/// (<see cref="DrainReads"/>), clearing each entry before it moves the ring's head. One producer and one consumer (the
/// lock holder) per ring, so plain and release stores suffice and, on one thread, no hit is lost or reordered. A full
/// ring is the caller's to handle: the cache schedules a drain on the thread pool (or, in its synchronous mode, drains
/// under the lock if free) and drops the record (<see cref="CountDropped"/>), so the hit is counted but not applied.
/// </para>
/// </remarks>
internal sealed class RecencyClock
{
    internal const int SequenceBits = 20;

    /// <summary>The sequence part of a stamp: 0 in a write's stamp, 1 or more in a hit's.</summary>
    internal const long SequenceMask = (1L << SequenceBits) - 1;
    private const long SequenceLimit = SequenceMask;
    private const int InitialSlots = 16;

    /// <summary>The number of hits a thread records before a writer must drain them (TinyLfu only).</summary>
    internal const int ReadBufferSize = 64;
    private const int ReadBufferMask = ReadBufferSize - 1;

    // Environment.CurrentManagedThreadId costs far more than a thread-static read on some platforms, and this runs on
    // every hit; the id never changes for a thread, so each thread caches it once.
    [ThreadStatic]
    private static int t_threadId;

    private readonly object _growLock = new();

    // Indexed by managed thread id (small, dense: the runtime hands out the lowest free one); grown on demand. A grown
    // array holds the same slot objects, so a reader still writing through the old array counts in the right place.
    private Slot?[] _slots = new Slot?[InitialSlots];

    // Read on every hit, written on every write: a write makes the readers' copies stale once, which they need anyway.
    // Padded so those writes do not also evict the slot array reference that every hit reads beside it.
    private PaddedEpoch _shared;

    private readonly bool _buffersReads;

    /// <summary>Initializes a clock whose hits are stamped (LRU).</summary>
    public RecencyClock()
    {
    }

    /// <summary>Initializes a clock; with <paramref name="buffersReads"/>, hits are recorded in per-thread rings instead of stamped.</summary>
    public RecencyClock(bool buffersReads) => _buffersReads = buffersReads;

    /// <summary>A consumer of drained hits (the TinyLfu policy), called under the policy lock.</summary>
    internal interface IReadSink
    {
        void OnRead(object node);
    }

    /// <summary>Gets the number of hits counted so far; exact when no hit is in flight.</summary>
    public long Hits => Sum(static slot => Volatile.Read(ref slot.Fields.Hits) + Volatile.Read(ref slot.Fields.ReadTail) + Volatile.Read(ref slot.Fields.Dropped));

    /// <summary>Sums a figure over every thread's slot (read without a lock: each slot is written by its own thread only).</summary>
    private long Sum(Func<Slot, long> read)
    {
        long sum = 0;
        foreach (Slot? slot in Volatile.Read(ref _slots))
        {
            if (slot is not null)
            {
                sum += read(slot);
            }
        }

        return sum;
    }

    /// <summary>Counts one hit and returns its stamp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Hit()
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        if ((uint)threadId < (uint)slots.Length && slots[threadId] is { } slot)
        {
            return slot.Hit(ref _shared.Epoch);
        }

        return HitWithNewSlot();
    }

    /// <summary>
    /// Counts one hit on <paramref name="node"/> and records it in the thread's ring for a writer to drain; returns
    /// false, counting nothing, when the ring is full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRecord(object node)
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        if ((uint)threadId < (uint)slots.Length && slots[threadId] is { } slot)
        {
            return slot.TryRecord(node);
        }

        return OwnSlot().TryRecord(node);
    }

    /// <summary>Gets the number of hits counted whose record was dropped (for tests).</summary>
    internal long Dropped => Sum(static slot => Volatile.Read(ref slot.Fields.Dropped));

    /// <summary>Gets the number of recorded hits not drained yet (for tests; exact when no hit is in flight).</summary>
    internal long PendingReads => Sum(static slot => Volatile.Read(ref slot.Fields.ReadTail) - Volatile.Read(ref slot.Fields.ReadHead));

    /// <summary>
    /// Counts one hit on <paramref name="node"/> and records it in the thread's ring for a drain; when the ring is full,
    /// counts the hit as dropped instead (its record is lost) and returns false. Under read-heavy load most hits end in
    /// that branch while a drain is on its way, so it costs what a record costs: no second slot lookup, no call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool RecordOrDrop(object node)
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        if ((uint)threadId < (uint)slots.Length && slots[threadId] is { } slot)
        {
            return slot.RecordOrDrop(node);
        }

        return OwnSlot().RecordOrDrop(node);
    }

    /// <summary>Counts a hit whose record was dropped (its ring was full).</summary>
    /// <remarks>
    /// Under read-heavy load every hit between a full ring and the end of its drain comes here, so this finds the slot
    /// the way a hit does: <see cref="OwnSlot"/> takes a lock shared by all threads.
    /// </remarks>
    public void CountDropped()
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        Slot slot = (uint)threadId < (uint)slots.Length && slots[threadId] is { } own ? own : OwnSlot();
        Volatile.Write(ref slot.Fields.Dropped, slot.Fields.Dropped + 1);
    }

    /// <summary>Hands every recorded hit to <paramref name="sink"/>, ring by ring in each ring's order, and empties the rings. Call under the policy lock.</summary>
    public void DrainReads(IReadSink sink)
    {
        foreach (Slot? slot in Volatile.Read(ref _slots))
        {
            if (slot?.Reads is not { } reads)
            {
                continue;
            }

            long head = slot.Fields.ReadHead;

            // Acquire: the entries below the tail were written before it moved.
            long tail = Volatile.Read(ref slot.Fields.ReadTail);
            for (; head != tail; head++)
            {
                ref object? entry = ref reads[(int)head & ReadBufferMask];
                object node = entry!;

                // Cleared before the head moves past it: the ring never keeps a node alive once drained.
                entry = null;
                sink.OnRead(node);
            }

            // Release: the owner reuses these entries only after seeing this head.
            Volatile.Write(ref slot.Fields.ReadHead, head);
        }
    }

    /// <summary>Forgets every recorded hit without handing it on (disposal). Call under the policy lock.</summary>
    public void DiscardReads()
    {
        foreach (Slot? slot in Volatile.Read(ref _slots))
        {
            if (slot?.Reads is { } reads)
            {
                long tail = Volatile.Read(ref slot.Fields.ReadTail);
                Array.Clear(reads);
                Volatile.Write(ref slot.Fields.ReadHead, tail);
            }
        }
    }

    /// <summary>Tells whether <paramref name="stamp"/> is older than <paramref name="than"/>; by signed difference, so the clock may wrap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsOlder(long stamp, long than) => stamp - than < 0;

    /// <summary>Starts a new epoch and returns the stamp of the write that starts it. Call under the policy lock.</summary>
    public long Write()
    {
        long epoch = Volatile.Read(ref _shared.Epoch) + 1;
        Volatile.Write(ref _shared.Epoch, epoch);
        return epoch << SequenceBits;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long HitWithNewSlot() => OwnSlot().Hit(ref _shared.Epoch);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Slot OwnSlot()
    {
        int threadId = t_threadId;
        if (threadId == 0)
        {
            threadId = t_threadId = Environment.CurrentManagedThreadId;
        }

        Slot slot;
        lock (_growLock)
        {
            Slot?[] slots = _slots;
            if (threadId >= slots.Length)
            {
                Array.Resize(ref slots, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)threadId + 1));
            }

            // A thread that died left its slot (and count) here; the next thread given its id carries on with it.
            slot = slots[threadId] ??= new Slot(_buffersReads);
            Volatile.Write(ref _slots, slots);
        }

        return slot;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedEpoch
    {
        [FieldOffset(64)]
        public long Epoch;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedFields
    {
        // Written by the owner on every hit; padded so two slots' owners never share a cache line (adjacent-line
        // prefetchers on x64 pull pairs of 64-byte lines).
        [FieldOffset(64)]
        public long Hits;

        // The epoch of this thread's last hit, and its hit count before its first hit in that epoch: the sequence
        // number of a hit is its count since then, so one counter serves both the statistics and the stamps.
        [FieldOffset(72)]
        public long Epoch;

        [FieldOffset(80)]
        public long EpochStart;

        // TinyLfu's ring of recorded hits: the owner moves the tail, the lock holder the head. Hits the owner could not
        // record (ring full) are still counted, in Dropped.
        [FieldOffset(88)]
        public long ReadTail;

        [FieldOffset(96)]
        public long ReadHead;

        [FieldOffset(104)]
        public long Dropped;
    }

    private sealed class Slot
    {
        public readonly object?[]? Reads;
        public PaddedFields Fields;

        public Slot(bool buffersReads) => Reads = buffersReads ? new object?[ReadBufferSize] : null;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryRecord(object node)
        {
            long tail = Fields.ReadTail;
            if (tail - Volatile.Read(ref Fields.ReadHead) >= ReadBufferSize)
            {
                return false;
            }

            Reads![(int)tail & ReadBufferMask] = node;

            // Release: a drainer that sees this tail sees the node written above.
            Volatile.Write(ref Fields.ReadTail, tail + 1);
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool RecordOrDrop(object node)
        {
            if (TryRecord(node))
            {
                return true;
            }

            Volatile.Write(ref Fields.Dropped, Fields.Dropped + 1);
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long Hit(ref long sharedEpoch)
        {
            // Only the owner writes these fields: plain stores are exact. Observers read Hits with Volatile.
            long hits = Fields.Hits + 1;
            Volatile.Write(ref Fields.Hits, hits);
            long epoch = Volatile.Read(ref sharedEpoch);
            if (Fields.Epoch != epoch)
            {
                Fields.Epoch = epoch;
                Fields.EpochStart = hits - 1;
            }

            long sequence = hits - Fields.EpochStart;
            return sequence <= SequenceLimit ? (epoch << SequenceBits) | sequence : NextEpoch(ref sharedEpoch, epoch, hits);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private long NextEpoch(ref long sharedEpoch, long epoch, long hits)
        {
            // This thread hit 2^20 times within one epoch: move the epoch on so its next stamps still increase. Losing the
            // race to a writer or another reader is as good as winning it: the epoch moved either way.
            Interlocked.CompareExchange(ref sharedEpoch, epoch + 1, epoch);
            epoch = Volatile.Read(ref sharedEpoch);
            Fields.Epoch = epoch;
            Fields.EpochStart = hits - 1;
            return (epoch << SequenceBits) | 1;
        }
    }
}
