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
/// recorded (<see cref="Record"/>) in the slot's own ring of <see cref="ReadBufferSize"/> nodes: the owner writes the node
/// and then moves its tail with a release store; whoever holds the policy lock drains every ring (<see cref="DrainReads"/>),
/// clearing each entry before it moves the ring's head. One producer and one consumer (the lock holder) per ring, so
/// plain and release stores suffice and, on one thread, no hit is lost or reordered. Every write drains first; a reader
/// whose ring is full drains every ring itself if the lock is free, and so does a reader about to start an empty ring
/// while another thread holds records (<see cref="RecordResult.OthersPending"/>, tracked by one shared field written once
/// per ring, not per hit), so that hits reach the policy in order when threads take turns. Nothing waits for another
/// thread, and no drain runs on the thread pool: what reaches the policy depends only on the order of the operations.
/// </para>
/// <para>
/// A thread whose ring filled <see cref="SampleAfterFullRings"/> times in a row with no write between (a long run of
/// hits: the policy evicts nothing meanwhile) samples its hits: it records one in <c>stride</c> on average, at uniformly
/// random gaps so no period of the workload lines up with the samples, the stride doubling at each further full ring up to
/// <see cref="MaximumSampleStride"/>, and back to 1 at its first record after any write. The others are counted
/// (<c>Dropped</c>) and reported to the policy's hit ratio, not to its sketch. This bounds what a read-only stretch costs
/// the reader (the policy's work per applied hit is several times a lookup) while the replays the hit-rate study makes,
/// whose hit runs are shorter, reach the policy whole.
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

    /// <summary>
    /// How many times in a row a thread's ring fills with no write between before it samples its hits (1,024 hits):
    /// replays with shorter runs of hits reach the policy whole. The hit-rate study measured starting after 4 full rings
    /// (up to 2.3 points lost on the loop trace) and after 16 (0.14 at most); docs/caching-tinylfu.md.
    /// </summary>
    internal const int SampleAfterFullRings = 16;

    /// <summary>
    /// The most hits per record a sampling thread reaches: a full ring then costs its reader the policy's work once per
    /// 16 x 64 hits. A stride of 64 lost up to 0.62 point in the hit-rate study, 16 up to 0.14.
    /// </summary>
    internal const int MaximumSampleStride = 16;

    /// <summary>What <see cref="Record"/> did.</summary>
    internal enum RecordResult
    {
        /// <summary>The hit is recorded, or counted as sampled out.</summary>
        Done,

        /// <summary>The ring is full: nothing was counted.</summary>
        Full,

        /// <summary>The ring is empty and another thread's may hold older records: nothing was counted.</summary>
        OthersPending,
    }

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

        /// <summary>Hits counted since the last drain whose records were not kept (sampled out or dropped).</summary>
        void OnUnrecordedReads(long count);
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

    /// <summary>Gets the number of hits counted without a record: sampled out, or dropped while the lock was taken (for tests).</summary>
    internal long Dropped => Sum(static slot => Volatile.Read(ref slot.Fields.Dropped));

    /// <summary>Gets the number of recorded hits not drained yet (for tests; exact when no hit is in flight).</summary>
    internal long PendingReads => Sum(static slot => Volatile.Read(ref slot.Fields.ReadTail) - Volatile.Read(ref slot.Fields.ReadHead));

    /// <summary>
    /// Counts one hit on <paramref name="node"/> and, unless this thread is sampling and this hit is not its sample,
    /// records it. Counts nothing when the record is due and the ring is full, or when the ring is empty and another
    /// thread started filling its own since the last drain of every ring (the caller drains first, then records).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RecordResult Record(object node)
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        if ((uint)threadId < (uint)slots.Length && slots[threadId] is { } slot)
        {
            return slot.Record(node, ref _shared, threadId);
        }

        slot = OwnSlot();
        return slot.Record(node, ref _shared, t_threadId);
    }

    /// <summary>
    /// Records a hit on <paramref name="node"/> right after the rings were drained (or, when the lock was taken, in place
    /// of that drain), whatever the sampling, and marks this thread as the one holding records; false, counting nothing,
    /// if the ring is still full.
    /// </summary>
    public bool RecordFirst(object node)
    {
        Slot slot = MySlot();

        // Without the lock (the drain was skipped because another thread held it) this plain store may race with another
        // reader's: the loser's older records may then reach the policy after newer ones, which concurrent reads allow.
        Volatile.Write(ref _shared.Recorder, t_threadId);
        return slot.TryRecord(node);
    }

    /// <summary>
    /// This thread drained every ring itself because its own was full. After <see cref="SampleAfterFullRings"/> such
    /// drains with no write between, it samples its next hits at twice the stride (up to <see cref="MaximumSampleStride"/>)
    /// until a write comes. Call under the policy lock, after the drain.
    /// </summary>
    public void AfterOwnFullDrain()
    {
        Slot slot = MySlot();
        long epoch = Volatile.Read(ref _shared.Epoch);
        if (epoch == slot.Fields.StrideEpoch)
        {
            slot.Fields.FullRuns++;
        }
        else
        {
            slot.Fields.FullRuns = 1;
            slot.Fields.Stride = 1;
            slot.Fields.StrideEpoch = epoch;
        }

        if (slot.Fields.FullRuns > SampleAfterFullRings)
        {
            slot.Fields.Stride = Math.Min(slot.Fields.Stride * 2, MaximumSampleStride);
        }

        slot.Fields.Skip = slot.NextGap();
    }

    /// <summary>Counts a hit whose record was dropped (its ring was full) and skips the next <paramref name="backOff"/> records.</summary>
    public void CountDropped(int backOff)
    {
        Slot slot = MySlot();
        Volatile.Write(ref slot.Fields.Dropped, slot.Fields.Dropped + 1);
        slot.Fields.Skip = backOff;
    }

    /// <summary>Hands every recorded hit to <paramref name="sink"/>, ring by ring in each ring's order, and empties the rings. Call under the policy lock.</summary>
    public void DrainReads(IReadSink sink)
    {
        // Every ring is empty below: no thread holds records older than the next one recorded.
        Volatile.Write(ref _shared.Recorder, 0);
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

            // Hits counted without a record since the last drain: the policy's hit ratio must see them too.
            long dropped = Volatile.Read(ref slot.Fields.Dropped);
            if (dropped != slot.Fields.DroppedDrained)
            {
                sink.OnUnrecordedReads(dropped - slot.Fields.DroppedDrained);
                slot.Fields.DroppedDrained = dropped;
            }
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
                slot.Fields.DroppedDrained = Volatile.Read(ref slot.Fields.Dropped);
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

    /// <summary>This thread's slot, created if needed.</summary>
    private Slot MySlot()
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        return (uint)threadId < (uint)slots.Length && slots[threadId] is { } own ? own : OwnSlot();
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

        // TinyLfu: the thread that last started filling an empty ring since every ring was drained (0: none). Written
        // once per ring filled, not per hit.
        [FieldOffset(72)]
        public int Recorder;
    }

    [StructLayout(LayoutKind.Explicit, Size = 192)]
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

        // Dropped as of the last drain (written under the policy lock only).
        [FieldOffset(112)]
        public long DroppedDrained;

        // Sampling (owner only): hits to count without a record before the next record, the mean hits per record, the
        // write epoch when the stride last grew (a write since then resets it to 1), and the gap generator's state.
        [FieldOffset(120)]
        public int Skip;

        [FieldOffset(124)]
        public int Stride;

        [FieldOffset(128)]
        public long StrideEpoch;

        [FieldOffset(136)]
        public uint Random;

        [FieldOffset(140)]
        public int FullRuns;
    }

    private sealed class Slot
    {
        public readonly object?[]? Reads;
        public PaddedFields Fields;

        public Slot(bool buffersReads)
        {
            Reads = buffersReads ? new object?[ReadBufferSize] : null;
            Fields.Stride = 1;
            Fields.Random = (uint)System.Random.Shared.Next() | 1;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public RecordResult Record(object node, ref PaddedEpoch shared, int threadId)
        {
            int skip = Fields.Skip;
            if (skip > 0)
            {
                Fields.Skip = skip - 1;
                Volatile.Write(ref Fields.Dropped, Fields.Dropped + 1);
                return RecordResult.Done;
            }

            long tail = Fields.ReadTail;
            long head = Volatile.Read(ref Fields.ReadHead);
            if (tail - head >= ReadBufferSize)
            {
                return RecordResult.Full;
            }

            if (tail == head)
            {
                // The first record since this ring was drained. Another thread that started a ring since every ring was
                // drained may hold hits older than this one: they must reach the policy first (threads taking turns).
                int recorder = Volatile.Read(ref shared.Recorder);
                if (recorder != threadId)
                {
                    if (recorder != 0)
                    {
                        return RecordResult.OthersPending;
                    }

                    Volatile.Write(ref shared.Recorder, threadId);
                }
            }

            Store(tail, node);

            // Release: a drainer that sees this tail sees the node written above.
            Volatile.Write(ref Fields.ReadTail, tail + 1);
            if (Fields.Stride > 1)
            {
                if (Volatile.Read(ref shared.Epoch) != Fields.StrideEpoch)
                {
                    // A write came: writes drain the rings again, so every hit is recorded again.
                    Fields.Stride = 1;
                    Fields.FullRuns = 0;
                }
                else
                {
                    Fields.Skip = NextGap();
                }
            }

            return RecordResult.Done;
        }

        /// <summary>The hits to skip before the next record: uniform in [0, 2 * stride - 2], mean stride - 1, so no trace's period can line up with the samples.</summary>
        public int NextGap()
        {
            uint x = Fields.Random;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            Fields.Random = x;
            int stride = Fields.Stride;
            return stride <= 1 ? 0 : (int)(x % (uint)((2 * stride) - 1));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryRecord(object node)
        {
            long tail = Fields.ReadTail;
            if (tail - Volatile.Read(ref Fields.ReadHead) >= ReadBufferSize)
            {
                return false;
            }

            Store(tail, node);

            // Release: a drainer that sees this tail sees the node written above.
            Volatile.Write(ref Fields.ReadTail, tail + 1);
            return true;
        }

        /// <summary>
        /// Writes the ring entry for <paramref name="tail"/> through a reference: the ring is exactly an
        /// <c>object?[]</c>, so the covariance check an element store would call a helper for cannot fail, and the index
        /// is masked into the ring.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(long tail, object node)
            => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Reads!), (int)tail & ReadBufferMask) = node;

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
