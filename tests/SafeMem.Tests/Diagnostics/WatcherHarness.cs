using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

/// <summary>
/// Drives a <see cref="LeakWatcher"/> through full collections the way the runtime would, and waits for the sweep each
/// one schedules (it runs on the thread pool) instead of sleeping for a guessed time.
/// </summary>
internal static class WatcherHarness
{
    private static readonly TimeSpan s_sweepTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs one full blocking collection, lets the finalizer thread run the watcher's callback, then waits until the
    /// sweep it scheduled has finished (events included).
    /// </summary>
    public static void FullCollection(LeakWatcher watcher)
    {
        long before = watcher.SweepCount;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        WaitFor(() => watcher.SweepCount > before, "the sweep after a full collection");
    }

    /// <summary>Runs full collections (each followed by its sweep) until <paramref name="condition"/> holds, at most <paramref name="rounds"/>.</summary>
    public static bool CollectUntil(LeakWatcher watcher, Func<LeakWatcherStatistics, bool> condition, int rounds = 8)
    {
        for (int i = 0; i < rounds; i++)
        {
            if (condition(watcher.GetStatistics()))
            {
                return true;
            }

            FullCollection(watcher);
        }

        return condition(watcher.GetStatistics());
    }

    public static void WaitFor(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + s_sweepTimeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            Thread.Sleep(5);
        }
    }

    /// <summary>Watches a new object and drops it, in a frame of its own so no local keeps it alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static WeakReference WatchAndDrop(LeakWatcher watcher, string description = "dropped")
    {
        var target = new Payload();
        Assert.True(watcher.Watch(target, description));
        return new WeakReference(target);
    }

    /// <summary>Watches a new object that <paramref name="holder"/> keeps (a static list, a singleton's field, in a real program).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static WeakReference WatchAndHold(LeakWatcher watcher, ICollection<object> holder, string description = "held")
    {
        var target = new Payload();
        holder.Add(target);
        Assert.True(watcher.Watch(target, description));
        return new WeakReference(target);
    }

    /// <summary>Like <see cref="WatchAndHold"/>, returning the object itself (for tests that map objects to what they expect).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static object WatchAndHoldObject(LeakWatcher watcher, ICollection<object> holder, string description)
    {
        var target = new Payload();
        holder.Add(target);
        Assert.True(watcher.Watch(target, description));
        return target;
    }

    /// <summary>Collects the <see cref="LeakWatcher.Retained"/> reports of a watcher.</summary>
    public sealed class Recorder
    {
        private readonly ConcurrentQueue<RetainedObject> _reports = new();

        // A recorder lives exactly as long as the test's watcher: no removal needed.
#pragma warning disable SM1002
        public Recorder(LeakWatcher watcher) => watcher.Retained += (_, report) => _reports.Enqueue(report);
#pragma warning restore SM1002

        public IReadOnlyList<RetainedObject> Reports => [.. _reports];
    }

    /// <summary>A small object to watch.</summary>
    public sealed class Payload
    {
        public byte[] Data { get; } = new byte[32];
    }
}
