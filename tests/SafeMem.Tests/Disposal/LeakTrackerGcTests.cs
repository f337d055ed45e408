using System.Runtime.CompilerServices;
using SafeMem.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

public sealed class LeakTrackerGcTests
{
    [Fact]
    public void Track_DoesNotKeepTrackedObjectsAlive()
    {
        var tracker = new LeakTracker("weak", new LeakTrackerOptions { CaptureStackTrace = true });

        WeakReference open = TrackAndDrop(tracker, dispose: false);
        WeakReference closed = TrackAndDrop(tracker, dispose: true);

        GcAssert.Collected(open, closed);
        GC.KeepAlive(tracker);
    }

    [Fact]
    public void Track_StronglyHeldObject_StaysAliveAndIsNotReported_Control()
    {
        // The control: with a strong reference the same object survives, and nothing is reported.
        var tracker = new LeakTracker("held");
        using var recorder = new LeakRecorder(tracker);
        var held = new List<object>();
        WeakReference weak = TrackAndHold(tracker, held);

        GcAssert.Alive(weak);
        Assert.Empty(recorder.CollectAndSettle());
        Assert.Equal(1, tracker.GetStatistics().ObjectCount);
        GC.KeepAlive(held);
    }

    [Fact]
    public void Tracker_WithNoOpenRecords_IsCollected()
    {
        WeakReference tracker = CreateTrackerAndUseIt();

        GcAssert.Collected(tracker);
    }

    [Fact]
    public void Tracker_WhoseTrackedObjectsWereDisposedButStayAlive_IsCollected()
    {
        // Issue 20.11: a disposed object (its closed record attached to it, its handle in its field) kept the tracker
        // alive for as long as the object lived.
        var alive = new List<object>();
        WeakReference tracker = CreateTrackerAndTrack(alive, dispose: true);

        GcAssert.Collected(tracker);
        GC.KeepAlive(alive);
    }

    [Fact]
    public void Tracker_WithOpenRecordsOfLiveObjects_StaysAlive_Control()
    {
        // The control: the same objects left undisposed keep their open records, and the records their tracker.
        var alive = new List<object>();
        WeakReference tracker = CreateTrackerAndTrack(alive, dispose: false);

        GcAssert.Alive(tracker);
        GC.KeepAlive(alive);
    }

    [Fact]
    public void TrackedDisposable_DisposedAndDropped_IsCollectedAndNotReported()
    {
        var tracker = new LeakTracker("base-class");
        using var recorder = new LeakRecorder(tracker);

        WeakReference disposed = CreateConnection(tracker, dispose: true);
        WeakReference leaked = CreateConnection(tracker, dispose: false);

        GcAssert.Collected(disposed, leaked);
        LeakReport report = Assert.Single(recorder.CollectUntil(1));
        Assert.Equal(typeof(Connection), report.ResourceType);
        Assert.Equal(1, tracker.GetStatistics().Disposals);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference TrackAndDrop(LeakTracker tracker, bool dispose)
    {
        var resource = new byte[64];
        LeakHandle handle = tracker.Track(resource);
        if (dispose)
        {
            handle.Dispose();
        }

        return new WeakReference(resource);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference TrackAndHold(LeakTracker tracker, List<object> held)
    {
        var resource = new byte[64];
        _ = tracker.Track(resource);
        held.Add(resource);
        return new WeakReference(resource);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateTrackerAndUseIt()
    {
        var tracker = new LeakTracker();
        var resource = new object();
        tracker.Track(resource).Dispose();
        return new WeakReference(tracker);
    }

    /// <summary>Tracks one object of each kind (a handle in its own field, a base-class object, a scope) and keeps them in <paramref name="alive"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateTrackerAndTrack(List<object> alive, bool dispose)
    {
        var tracker = new LeakTracker("let-go", new LeakTrackerOptions { CaptureStackTrace = true });
        var handleInField = new HandleInField(tracker);
        var connection = new Connection(tracker);
        var scope = new DisposalScope(new DisposalScopeOptions { Name = "let-go", LeakTracker = tracker });
        scope.Add(new MemoryStream());
        if (dispose)
        {
            handleInField.Dispose();
            connection.Dispose();
            scope.Dispose();
        }

        alive.Add(handleInField);
        alive.Add(connection);
        alive.Add(scope);
        return new WeakReference(tracker);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateConnection(LeakTracker tracker, bool dispose)
    {
        var connection = new Connection(tracker);
        if (dispose)
        {
            connection.Dispose();
            Assert.True(connection.Closed);
        }

        return new WeakReference(connection);
    }

    /// <summary>The hand-written pattern: the handle in a field of the tracked object.</summary>
    private sealed class HandleInField : IDisposable
    {
        private readonly LeakHandle _leak;

        public HandleInField(LeakTracker tracker) => _leak = tracker.Track(this);

        public void Dispose() => _leak.Dispose();
    }

    private sealed class Connection(LeakTracker tracker) : TrackedDisposable(tracker)
    {
        public bool Closed { get; private set; }

        protected override void Dispose(bool disposing) => Closed = disposing;
    }
}
