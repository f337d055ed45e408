namespace SafeMem.Diagnostics;

/// <summary>
/// Counts the full (generation 2) garbage collections that have <b>completed</b> since a moment, without inducing any:
/// the watcher's clock.
/// </summary>
/// <remarks>
/// <para>
/// A watched object is stamped with <see cref="GC.CollectionCount(int)"/> of generation 0, which counts every
/// collection <i>started</i> so far; the runtime numbers collections in that order (<see cref="GCMemoryInfo.Index"/>),
/// so a collection whose index is greater than the stamp started after the object was watched. This clock records the
/// indexes of the last completed full collections, read from <see cref="GC.GetGCMemoryInfo(GCKind)"/> (blocking and
/// background kinds) after each full collection; an object has survived <c>n</c> full collections once <c>n</c> of the
/// recorded indexes exceed its stamp.
/// </para>
/// <para>
/// Why not <see cref="GC.CollectionCount(int)"/> of generation 2 alone: it counts collections that have started, and a
/// background collection runs alongside the program, so a count read while one is marking includes a collection that
/// has not yet cleared the weak handles of the objects it will find dead; judging an object then would report a dead
/// object as retained. The indexes of <i>completed</i> collections cannot be ahead of the heap. When two full
/// collections complete between two observations only the later one is seen, so the clock can only run slow: an object
/// is judged a collection late, never early.
/// </para>
/// <para>Thread-safe: one short lock; observations come from the finalizer thread, reads from the sweep.</para>
/// </remarks>
internal sealed class FullCollectionClock
{
    /// <summary>How many recent full collections are remembered: the most a watcher can be asked to wait for.</summary>
    public const int Capacity = 16;

    private readonly object _lock = new();
    private readonly long[] _completed = new long[Capacity];
    private int _count;
    private long _lastBlocking;
    private long _lastBackground;

    /// <summary>Gets the stamp of "now": the number of collections started so far.</summary>
    public static long Now() => GC.CollectionCount(0);

    /// <summary>Reads the last completed full collections; returns <see langword="true"/> when one is new.</summary>
    public bool Observe() => Observe(GC.GetGCMemoryInfo(GCKind.FullBlocking).Index, GC.GetGCMemoryInfo(GCKind.Background).Index);

    /// <summary>Records the indexes of the last completed blocking and background full collections (0 for none).</summary>
    internal bool Observe(long blocking, long background)
    {
        lock (_lock)
        {
            bool added = false;
            if (blocking > _lastBlocking)
            {
                _lastBlocking = blocking;
                added |= AddLocked(blocking);
            }

            if (background > _lastBackground)
            {
                _lastBackground = background;
                added |= AddLocked(background);
            }

            return added;
        }
    }

    /// <summary>
    /// Returns the stamp below which objects have seen at least <paramref name="collections"/> completed full
    /// collections (a record is due when its stamp is less than this), or 0 when fewer have been seen.
    /// </summary>
    public long DueBefore(int collections)
    {
        lock (_lock)
        {
            return _count < collections ? 0 : _completed[_count - collections];
        }
    }

    /// <summary>Counts the remembered completed full collections that started after <paramref name="stamp"/>.</summary>
    public int CountAfter(long stamp)
    {
        lock (_lock)
        {
            int n = 0;
            for (int i = _count - 1; i >= 0 && _completed[i] > stamp; i--)
            {
                n++;
            }

            return n;
        }
    }

    private bool AddLocked(long index)
    {
        // Kept ascending; a blocking and a background index can arrive out of order relative to each other.
        int position = _count;
        while (position > 0 && _completed[position - 1] > index)
        {
            position--;
        }

        if (position > 0 && _completed[position - 1] == index)
        {
            return false;
        }

        if (_count == Capacity)
        {
            if (position == 0)
            {
                return false; // older than everything remembered: it changes no due date
            }

            Array.Copy(_completed, 1, _completed, 0, position - 1);
            _completed[position - 1] = index;
            return true;
        }

        Array.Copy(_completed, position, _completed, position + 1, _count - position);
        _completed[position] = index;
        _count++;
        return true;
    }
}
