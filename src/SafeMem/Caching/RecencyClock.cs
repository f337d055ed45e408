using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SafeMem.Telemetry;

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
/// Each thread that reads gets a slot of its own (claimed once by compare-and-swap, found again from the managed thread
/// id, which is unique among live threads), padded so two threads never write one cache line. Only its owner writes a
/// slot, so plain stores suffice and no hit is lost. A thread that finds no free slot (more live readers than slots)
/// counts its hits on a shared striped counter and stamps them as the first hit of the current epoch. A slot whose
/// owner died keeps its count (the hits happened) and is reused by the next thread with the same id.
/// </para>
/// </remarks>
internal sealed class RecencyClock
{
    internal const int SequenceBits = 20;

    /// <summary>The sequence part of a stamp: 0 in a write's stamp, 1 or more in a hit's.</summary>
    internal const long SequenceMask = (1L << SequenceBits) - 1;
    private const long SequenceLimit = SequenceMask;
    private const int Probes = 4;

    // Environment.CurrentManagedThreadId costs far more than a thread-static read on some platforms, and this runs on
    // every hit; the id never changes for a thread, so each thread caches it once.
    [ThreadStatic]
    private static int t_threadId;

    private readonly Slot?[] _slots;
    private readonly int _mask;
    private readonly StripedCounter _unslottedHits = new();

    // Read on every hit, written on every write: a write makes the readers' copies stale once, which they need anyway.
    // Padded so those writes do not also evict the slot array reference that every hit reads beside it.
    private PaddedEpoch _shared;

    public RecencyClock()
    {
        int count = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount * 4, 16, 256));
        _slots = new Slot?[count];
        _mask = count - 1;
    }

    /// <summary>Gets the number of hits counted so far; exact when no hit is in flight.</summary>
    public long Hits
    {
        get
        {
            long sum = _unslottedHits.Sum();
            for (int i = 0; i < _slots.Length; i++)
            {
                if (Volatile.Read(ref _slots[i]) is { } slot)
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
        if (threadId == 0)
        {
            threadId = t_threadId = Environment.CurrentManagedThreadId;
        }

        // The mask keeps the index in range; skipping the bounds check matters on a path this short.
        Slot? slot = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), threadId & _mask);
        if (slot is null || slot.Owner != threadId)
        {
            return HitWithoutOwnSlot(threadId);
        }

        return slot.Hit(ref _shared.Epoch);
    }

    /// <summary>Starts a new epoch and returns the stamp of the write that starts it. Call under the policy lock.</summary>
    public long Write()
    {
        long epoch = Volatile.Read(ref _shared.Epoch) + 1;
        Volatile.Write(ref _shared.Epoch, epoch);
        return epoch << SequenceBits;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long HitWithoutOwnSlot(int threadId)
    {
        for (int probe = 0; probe < Probes; probe++)
        {
            ref Slot? entry = ref _slots[(threadId + probe) & _mask];
            Slot? slot = Volatile.Read(ref entry);
            if (slot is null)
            {
                // Claim a free slot for this thread; if another thread wins the race, look at the slot it installed.
                slot = Interlocked.CompareExchange(ref entry, new Slot(threadId), null) ?? entry;
            }

            if (slot!.Owner == threadId)
            {
                return slot.Hit(ref _shared.Epoch);
            }
        }

        // Sequence 1: still a hit's stamp (never mistaken for a write's), ordered only by epoch.
        _unslottedHits.Increment();
        return (Volatile.Read(ref _shared.Epoch) << SequenceBits) | 1;
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

    private sealed class Slot(int owner)
    {
        public readonly int Owner = owner;
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
