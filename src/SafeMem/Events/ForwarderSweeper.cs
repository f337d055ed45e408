using SafeMem.Internal;

namespace SafeMem.Events;

/// <summary>
/// Detaches forwarders (<see cref="WeakSubscriber{TSubscriber}"/>s) whose subscriber was collected even when their
/// source never raises again: after each full collection, a sweep on the thread pool walks the live forwarders.
/// </summary>
/// <remarks>
/// <para>
/// Process-wide state, bounded by the forwarders alive. It holds them weakly, through the weak handle each forwarder
/// keeps to itself in its <see cref="WeakHandleBlock"/> (an entry references the block, so the handle cannot be freed
/// while the entry can still read it): a forwarder lives as long as its source's event references it, or its token
/// is held, and no longer. Entries whose forwarder died or detached are dropped on every sweep and, amortized, when a
/// forwarder is tracked, so subscriptions disposed between full collections do not pile up.
/// </para>
/// <para>
/// Remove callbacks (user code) run on the thread pool, never on the finalizer thread and never under the lock.
/// </para>
/// </remarks>
internal static class ForwarderSweeper
{
    private const int MinimumPurgeThreshold = 64;

    private static readonly object s_lock = new();
    private static readonly List<Entry> s_forwarders = [];
    private static int s_purgeThreshold = MinimumPurgeThreshold;
    private static bool s_watching;
    private static int s_sweepQueued;

    /// <summary>Gets the number of forwarders tracked, live or not (for tests that the list stays bounded).</summary>
    internal static int TrackedCount
    {
        get
        {
            lock (s_lock)
            {
                return s_forwarders.Count;
            }
        }
    }

    /// <summary>Tracks the forwarder that <paramref name="handles"/> holds a weak handle to at <paramref name="index"/>.</summary>
    public static void Track(WeakHandleBlock handles, int index)
    {
        bool startWatching = false;
        bool orphansSeen = false;
        lock (s_lock)
        {
            if (s_forwarders.Count >= s_purgeThreshold)
            {
                // Amortized: the next purge is as many tracks away as there are survivors.
                orphansSeen = s_forwarders.Exists(static entry => entry.Forwarder is { IsDetached: false, IsOrphaned: true });
                s_forwarders.RemoveAll(static entry => entry.Forwarder is null or { IsDetached: true });
                s_purgeThreshold = Math.Max(MinimumPurgeThreshold, s_forwarders.Count * 2);
            }

            s_forwarders.Add(new Entry(handles, index));
            if (!s_watching)
            {
                s_watching = true;
                startWatching = true;
            }
        }

        if (startWatching)
        {
            // The lock object is static, so the notification lasts until the callback stops it (nothing tracked).
            GcNotification.Register(s_lock, static _ => OnFullCollection());
        }

        if (orphansSeen)
        {
            QueueSweep();
        }
    }

    /// <summary>Detaches every forwarder whose subscriber was collected; returns how many (for tests).</summary>
    internal static int Sweep()
    {
        Volatile.Write(ref s_sweepQueued, 0);
        List<IWeakForwarder>? orphans = null;
        lock (s_lock)
        {
            s_forwarders.RemoveAll(entry =>
            {
                IWeakForwarder? forwarder = entry.Forwarder;
                if (forwarder is null || forwarder.IsDetached)
                {
                    return true;
                }

                if (forwarder.IsOrphaned)
                {
                    (orphans ??= []).Add(forwarder);
                    return true;
                }

                return false;
            });
            s_purgeThreshold = Math.Max(MinimumPurgeThreshold, s_forwarders.Count * 2);
        }

        if (orphans is null)
        {
            return 0;
        }

        // Outside the lock: remove callbacks are user code and may subscribe or unsubscribe themselves.
        foreach (IWeakForwarder orphan in orphans)
        {
            orphan.DetachQuietly();
        }

        return orphans.Count;
    }

    private static bool OnFullCollection()
    {
        // Finalizer thread: two field accesses under the lock (so Track's view of s_watching stays true to whether a
        // notification is registered), then the real work goes to the thread pool.
        lock (s_lock)
        {
            if (s_forwarders.Count == 0)
            {
                s_watching = false;
                return false;
            }
        }

        QueueSweep();
        return true;
    }

    private static void QueueSweep()
    {
        if (Interlocked.Exchange(ref s_sweepQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static _ => Sweep(), null);
        }
    }

    /// <summary>A tracked forwarder: the block that holds a weak handle to it, and the handle's index.</summary>
    private readonly record struct Entry(WeakHandleBlock Handles, int Index)
    {
        public IWeakForwarder? Forwarder => Handles.Get(Index) as IWeakForwarder;
    }
}
