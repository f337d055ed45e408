using SafeMem.Internal;

namespace SafeMem.Events;

/// <summary>
/// Keeps every attached <see cref="WeakSubscriber{TSubscriber}"/> alive until its subscription ends, and detaches
/// those whose subscriber was collected even when their source never raises again: after each full collection, a
/// sweep on the thread pool walks them.
/// </summary>
/// <remarks>
/// <para>
/// Process-wide state, bounded by the subscriptions alive. Forwarders are held strongly: on a source that holds its
/// handlers weakly (an event backed by <see cref="WeakEventSource{TEventArgs}"/>) nothing else keeps a forwarder
/// alive, and the subscription would end at the next collection. Holding them roots neither subscribers nor sources
/// (forwarders reach both through weak handles). A forwarder is dropped once it is detached, its source was
/// collected, or its subscriber was collected (then it is detached first): on every sweep and, amortized, when a
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
    private static readonly List<IWeakForwarder> s_forwarders = [];
    private static int s_purgeThreshold = MinimumPurgeThreshold;
    private static bool s_watching;
    private static int s_sweepQueued;

    /// <summary>Gets the number of forwarders tracked, attached or not (for tests that the list stays bounded).</summary>
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

    public static void Track(IWeakForwarder forwarder)
    {
        bool startWatching = false;
        bool orphansSeen = false;
        lock (s_lock)
        {
            if (s_forwarders.Count >= s_purgeThreshold)
            {
                // Amortized: the next purge is as many tracks away as there are survivors.
                orphansSeen = s_forwarders.Exists(static f => !f.IsDetached && f.IsOrphaned);
                s_forwarders.RemoveAll(static f => f.IsDetached);
                s_purgeThreshold = Math.Max(MinimumPurgeThreshold, s_forwarders.Count * 2);
            }

            s_forwarders.Add(forwarder);
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
            s_forwarders.RemoveAll(forwarder =>
            {
                if (forwarder.IsDetached)
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
}
