using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SafeMem.Internal;

/// <summary>
/// Two monotonic counters (e.g. a pool's rentals and returns) that each thread increments in a slot of its own, with a
/// plain store: no lock, no interlocked instruction, no shared cache line on the hot path.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="Telemetry.StripedCounter"/> costs one interlocked add per update; on a path as short as an object pool's
/// get + return (two interlocked exchanges in all) that alone would add half again. Here each thread owns the slot at the
/// index of its managed thread id (unique among live threads, small: the runtime hands out the lowest free one), so
/// only that thread writes it and plain stores are exact: no update is lost.
/// </para>
/// <para>
/// A slot whose thread died keeps its counts (the events happened) and is carried on by the next thread given the same
/// id. Reading sums every slot: exact when no update is in flight, otherwise it may miss updates racing with it. Cost:
/// a reference per thread id in use, and a slot (about 150 bytes) per thread that ever counted.
/// </para>
/// </remarks>
internal sealed class PerThreadCounterPair
{
    private const int InitialSlots = 16;

    // Environment.CurrentManagedThreadId costs more than a thread-static read on some platforms; the id never changes.
    [ThreadStatic]
    private static int t_threadId;

    private readonly object _growLock = new();

    // Grown on demand; a grown array holds the same slot objects, so a writer still using the old array counts in the
    // right place.
    private Slot?[] _slots = new Slot?[InitialSlots];

    /// <summary>Gets the sum of the first counter over all threads.</summary>
    public long First
    {
        get
        {
            long sum = 0;
            foreach (Slot? slot in Volatile.Read(ref _slots))
            {
                if (slot is not null)
                {
                    sum += Volatile.Read(ref slot.Fields.First);
                }
            }

            return sum;
        }
    }

    /// <summary>Gets the sum of the second counter over all threads.</summary>
    public long Second
    {
        get
        {
            long sum = 0;
            foreach (Slot? slot in Volatile.Read(ref _slots))
            {
                if (slot is not null)
                {
                    sum += Volatile.Read(ref slot.Fields.Second);
                }
            }

            return sum;
        }
    }

    /// <summary>Adds one to the first counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void IncrementFirst()
    {
        Slot slot = CurrentSlot();
        // Only the owning thread writes: a plain read-modify-write is exact. The volatile store publishes it to readers.
        Volatile.Write(ref slot.Fields.First, slot.Fields.First + 1);
    }

    /// <summary>Adds one to the second counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void IncrementSecond()
    {
        Slot slot = CurrentSlot();
        Volatile.Write(ref slot.Fields.Second, slot.Fields.Second + 1);
    }

    /// <summary>Adds <paramref name="value"/> to the first counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddFirst(long value)
    {
        Slot slot = CurrentSlot();
        Volatile.Write(ref slot.Fields.First, slot.Fields.First + value);
    }

    /// <summary>Adds <paramref name="value"/> to the second counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddSecond(long value)
    {
        Slot slot = CurrentSlot();
        Volatile.Write(ref slot.Fields.Second, slot.Fields.Second + value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Slot CurrentSlot()
    {
        int threadId = t_threadId;
        Slot?[] slots = Volatile.Read(ref _slots);
        if ((uint)threadId < (uint)slots.Length && slots[threadId] is { } slot)
        {
            return slot;
        }

        return NewSlot();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Slot NewSlot()
    {
        int threadId = t_threadId;
        if (threadId == 0)
        {
            threadId = t_threadId = Environment.CurrentManagedThreadId;
        }

        lock (_growLock)
        {
            Slot?[] slots = _slots;
            if (threadId >= slots.Length)
            {
                Array.Resize(ref slots, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)threadId + 1));
            }

            // A thread that died left its slot (and counts) here; the next thread given its id carries on with it.
            Slot slot = slots[threadId] ??= new Slot();
            Volatile.Write(ref _slots, slots);
            return slot;
        }
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedFields
    {
        // Padded so two threads' slots never share a cache line (adjacent-line prefetchers pull pairs of 64-byte lines).
        [FieldOffset(64)]
        public long First;

        [FieldOffset(72)]
        public long Second;
    }

    private sealed class Slot
    {
        public PaddedFields Fields;
    }
}
