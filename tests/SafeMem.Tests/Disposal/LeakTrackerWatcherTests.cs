using System.Runtime.CompilerServices;
using SafeMem.Diagnostics;
using SafeMem.Disposal;
using SafeMem.Tests.Diagnostics;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

/// <summary>
/// A tracker with a <see cref="LeakTrackerOptions.LeakWatcher"/> hands each tracked object to the watcher when it is
/// disposed: "unreachable but never disposed" is the tracker's report, "disposed but still reachable" the watcher's.
/// </summary>
public sealed class LeakTrackerWatcherTests
{
    [Fact]
    public void TrackedDisposable_DisposedButStillHeld_IsReportedRetained()
    {
        using var watcher = new LeakWatcher("disposed-held");
        var tracker = new LeakTracker("sessions", new LeakTrackerOptions { LeakWatcher = watcher });
        var recorder = new WatcherHarness.Recorder(watcher);
        var cache = new List<object>();

        DisposeAndKeep(tracker, cache);

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        RetainedObject report = Assert.Single(recorder.Reports);
        Assert.Equal(typeof(Session), report.Type);
        Assert.Equal("disposed, tracked by leak tracker 'sessions'", report.Description);
        Assert.Same(watcher, tracker.LeakWatcher);
        Assert.Equal(1, tracker.GetStatistics().Disposals);
        GC.KeepAlive(cache);
    }

    [Fact]
    public void TrackedDisposable_DisposedAndDropped_IsCollectedByBoth_AndAnUndisposedOneIsTheTrackersLeak()
    {
        using var watcher = new LeakWatcher("disposed-dropped");
        var tracker = new LeakTracker("sessions", new LeakTrackerOptions { LeakWatcher = watcher });
        using var leaks = new LeakRecorder(tracker);

        WeakReference disposed = CreateSession(tracker, dispose: true);
        WeakReference leaked = CreateSession(tracker, dispose: false);

        GcAssert.Collected(disposed, leaked);
        Assert.Single(leaks.CollectUntil(1));
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Collected == 1));

        // The undisposed one was never handed to the watcher: it is the tracker's leak, not a retained object.
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((1, 1, 0), (statistics.Watched, statistics.Collected, statistics.Retained));
    }

    [Fact]
    public void Track_HandleDisposed_HandsTheObjectOver_AndUnsampledObjectsAreNot()
    {
        using var watcher = new LeakWatcher("handles");
        var sampled = new LeakTracker("all", new LeakTrackerOptions { LeakWatcher = watcher });
        var unsampled = new LeakTracker("none", new LeakTrackerOptions { LeakWatcher = watcher, SamplingRate = 0 });
        var tracked = new object();
        var skipped = new object();
        LeakHandle handle = sampled.Track(tracked);
        LeakHandle none = unsampled.Track(skipped);

        Assert.False(watcher.IsWatched(tracked));
        handle.Dispose();
        none.Dispose();
        handle.Dispose();

        Assert.True(watcher.IsWatched(tracked));
        Assert.False(watcher.IsWatched(skipped));
        Assert.Equal(1, watcher.GetStatistics().Watched);
        GC.KeepAlive(tracked);
        GC.KeepAlive(skipped);
    }

    [Fact]
    public void Track_WithAWatcher_DoesNotKeepTrackedObjectsAlive()
    {
        using var watcher = new LeakWatcher("weak-handoff");
        var tracker = new LeakTracker("weak", new LeakTrackerOptions { LeakWatcher = watcher });

        // Open (the tracker's weak handle) and closed (the watcher's): neither keeps the object.
        WeakReference open = CreateSession(tracker, dispose: false);
        WeakReference closed = CreateSession(tracker, dispose: true);

        GcAssert.Collected(open, closed);
    }

    [Fact]
    public void Dispose_AfterTheWatcherWasDisposed_StillDisposes()
    {
        var watcher = new LeakWatcher("gone");
        var tracker = new LeakTracker("shutdown", new LeakTrackerOptions { LeakWatcher = watcher });
        var session = new Session(tracker);
        watcher.Dispose();

        session.Dispose(); // during shutdown the watcher may go first: no exception

        Assert.True(session.Closed);
        Assert.Equal(1, tracker.GetStatistics().Disposals);
    }

    [Fact]
    public void Track_ABoxedValue_DisposesWithoutHandingItOff()
    {
        using var watcher = new LeakWatcher("boxed");
        var tracker = new LeakTracker("values", new LeakTrackerOptions { LeakWatcher = watcher });
        object boxed = 42;

        tracker.Track(boxed).Dispose(); // a watcher refuses a box; the tracker's Dispose must not throw for it

        Assert.Equal((0, 1), (watcher.GetStatistics().Watched, tracker.GetStatistics().Disposals));
        GC.KeepAlive(boxed);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DisposeAndKeep(LeakTracker tracker, List<object> cache)
    {
        var session = new Session(tracker);
        cache.Add(session); // the bug: a disposed session stays in a cache
        session.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateSession(LeakTracker tracker, bool dispose)
    {
        var session = new Session(tracker);
        if (dispose)
        {
            session.Dispose();
        }

        return new WeakReference(session);
    }

    private sealed class Session(LeakTracker tracker) : TrackedDisposable(tracker)
    {
        public bool Closed { get; private set; }

        protected override void Dispose(bool disposing) => Closed = disposing;
    }
}
