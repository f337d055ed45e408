using SafeMem.Testing.Internal;

namespace SafeMem.Testing;

/// <summary>
/// Measures what one action costs in memory: the bytes it allocates and the bytes it leaves alive, like
/// memory_profiler's increment for one function. No dump is taken: it reads the runtime's own counters.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Measure"/> counts the allocations of the calling thread, which runs the action: exact, and unaffected by
/// tests running in parallel. <see cref="MeasureAsync"/> cannot know which threads its continuations run on, so it
/// counts the allocations of every thread of the process during the call: run it where nothing else allocates (a
/// non-parallel test) for exact figures.
/// </para>
/// <para>
/// <see cref="MemoryMeasurement.RetainedBytes"/> is always process-wide: full, blocking, compacting collections (with
/// finalizers) run before and after the action, and the live heap sizes are compared, so it is exact only when no
/// other thread changes the heap meanwhile. Thread-safe; an exception from the action propagates unchanged.
/// </para>
/// </remarks>
public static class MemoryProbe
{
    /// <summary>Runs <paramref name="action"/> on the calling thread and measures what it allocated and retained.</summary>
    /// <param name="action">The code to measure.</param>
    /// <returns>The bytes allocated by the calling thread during the action, and the growth of the live heap.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    public static MemoryMeasurement Measure(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        long liveBefore = LiveBytes();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        action();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return new MemoryMeasurement(allocated, LiveBytes() - liveBefore);
    }

    /// <summary>Runs <paramref name="action"/> to completion and measures what the whole process allocated and retained meanwhile.</summary>
    /// <param name="action">The asynchronous code to measure.</param>
    /// <returns>The bytes allocated by all threads during the action, and the growth of the live heap.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    public static async Task<MemoryMeasurement> MeasureAsync(Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        long liveBefore = LiveBytes();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await action().ConfigureAwait(false);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return new MemoryMeasurement(allocated, LiveBytes() - liveBefore);
    }

    private static long LiveBytes()
    {
        FullCollection.Run();
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
