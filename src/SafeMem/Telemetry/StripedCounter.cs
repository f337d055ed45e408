using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SafeMem.Telemetry;

/// <summary>
/// A monotonic or up-down 64-bit counter that many threads can update without contending on one cache line.
/// </summary>
/// <remarks>
/// Starts as a single field updated by compare-and-swap, which is as cheap as a plain interlocked add and costs one
/// long of memory. The first time a CAS fails (another thread updated the field between our read and write) the
/// counter inflates to an array of cache-line-padded cells, one per processor slot, and from then on each thread adds
/// to the cell of the processor it runs on. Blocks that are rarely contended never pay for the cells; hot blocks stop
/// bouncing one cache line between cores. <see cref="Sum"/> is exact when no update is in flight and otherwise may
/// miss updates that race with it, which is the usual contract for a metrics read.
/// </remarks>
internal sealed class StripedCounter
{
    // Cells are padded to 128 bytes: adjacent-line prefetchers on x64 pull pairs of 64-byte lines.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Cell
    {
        [FieldOffset(64)]
        public long Value;
    }

    private static readonly int s_cellCount = ComputeCellCount();

    private long _base;
    private Cell[]? _cells;

    /// <summary>Adds one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Increment() => Add(1);

    /// <summary>Subtracts one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Decrement() => Add(-1);

    /// <summary>Adds <paramref name="value"/> (which may be negative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long value)
    {
        Cell[]? cells = _cells;
        if (cells is null)
        {
            long current = Volatile.Read(ref _base);
            if (Interlocked.CompareExchange(ref _base, current + value, current) == current)
            {
                return;
            }

            cells = Inflate();
        }

        // Processor ids can exceed the cell count (and the id is only a hint), so mask it; a collision only costs speed.
        Interlocked.Add(ref cells[Thread.GetCurrentProcessorId() & (cells.Length - 1)].Value, value);
    }

    /// <summary>Returns the current total.</summary>
    public long Sum()
    {
        long sum = Volatile.Read(ref _base);
        Cell[]? cells = Volatile.Read(ref _cells);
        if (cells is not null)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                sum += Volatile.Read(ref cells[i].Value);
            }
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Cell[] Inflate()
    {
        // Losing this race is harmless: the loser's array is dropped and the winner's is used by everyone.
        Interlocked.CompareExchange(ref _cells, new Cell[s_cellCount], null);
        return _cells!;
    }

    private static int ComputeCellCount()
    {
        int count = Math.Min(Environment.ProcessorCount, 64);
        return (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(count, 2));
    }
}
