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
/// </remarks>
internal sealed class RecencyClock
{
    internal const int SequenceBits = 20;

    /// <summary>The sequence part of a stamp: 0 in a write's stamp, 1 or more in a hit's.</summary>
    internal const long SequenceMask = (1L << SequenceBits) - 1;
    private const long SequenceLimit = SequenceMask;
    private const int InitialSlots = 16;

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

    /// <summary>Gets the number of hits counted so far; exact when no hit is in flight.</summary>
    public long Hits
    {
        get
        {
            long sum = 0;
            foreach (Slot? slot in Volatile.Read(ref _slots))
            {
                if (slot is not null)
                {
                    sum += Volatile.Read(ref slot.Fields.Hits);
                }
            }

            return sum;
        }
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
    private long HitWithNewSlot()
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
            slot = slots[threadId] ??= new Slot();
            Volatile.Write(ref _slots, slots);
        }

        return slot.Hit(ref _shared.Epoch);
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
    }

    private sealed class Slot
    {
        public PaddedFields Fields;

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
