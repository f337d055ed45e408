using System.Runtime.CompilerServices;
using SafeMem.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

public sealed class DisposalScopeLeakTests
{
    [Fact]
    public void ScopeDroppedUndisposedWhileOwningItems_IsReportedWithItsItems()
    {
        var tracker = new LeakTracker("scopes", new LeakTrackerOptions { CaptureStackTrace = true });
        using var recorder = new LeakRecorder(tracker);

        DropScopeWithItems(tracker);
        LeakReport report = Assert.Single(recorder.CollectUntil(1));

        Assert.Equal(typeof(DisposalScope), report.ResourceType);
        Assert.NotNull(report.Details);
        Assert.Contains("'request'", report.Details);
        Assert.Contains("2 item(s)", report.Details);
        Assert.Contains("System.IO.MemoryStream", report.Details);
        Assert.Contains("a callback", report.Details);
        Assert.Contains(nameof(DropScopeWithItems), report.CreationStackTrace);
    }

    [Fact]
    public void ScopeDroppedEmpty_IsNotALeak()
    {
        var tracker = new LeakTracker("empty-scopes");
        using var recorder = new LeakRecorder(tracker);

        DropEmptyScope(tracker);
        // The control leaks one scope with an item, so reports are known to arrive.
        DropScopeWithItems(tracker);
        recorder.CollectUntil(1);
        recorder.CollectAndSettle();

        Assert.Single(recorder.Reports);
        LeakTrackerStatistics statistics = tracker.GetStatistics();
        Assert.Equal(2, statistics.Additions);
        Assert.Equal(1, statistics.Disposals);
        Assert.Equal(1, statistics.Leaks);
    }

    [Fact]
    public void DisposedScope_IsNeverReported_AndChildrenAreTrackedToo()
    {
        var tracker = new LeakTracker("disposed-scopes");
        using var recorder = new LeakRecorder(tracker);

        DisposeScopeWithChild(tracker);
        recorder.CollectAndSettle();

        Assert.Empty(recorder.Reports);
        Assert.Equal(2, tracker.GetStatistics().Additions);
        Assert.Equal(2, tracker.GetStatistics().Disposals);
    }

    [Fact]
    public void TrackedScope_DroppedUndisposed_IsCollected()
    {
        // The tracker's record must not keep the scope (or its items) alive; it refers to the item list only.
        var tracker = new LeakTracker("collectable-scopes");
        WeakReference scope = CreateScopeWithItem(tracker, out WeakReference item);

        GcAssert.Collected(scope);
        GcAssert.Collected(item);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropScopeWithItems(LeakTracker tracker)
    {
        var scope = new DisposalScope(new DisposalScopeOptions { Name = "request", LeakTracker = tracker });
        scope.Add(new MemoryStream());
        scope.Add(() => { });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropEmptyScope(LeakTracker tracker)
    {
        var scope = new DisposalScope(new DisposalScopeOptions { Name = "empty", LeakTracker = tracker });
        scope.Remove(scope.Add(new MemoryStream()));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DisposeScopeWithChild(LeakTracker tracker)
    {
        var scope = new DisposalScope(new DisposalScopeOptions { Name = "ok", LeakTracker = tracker });
        scope.CreateChild("child").Add(new MemoryStream());
        scope.Add(new MemoryStream());
        scope.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateScopeWithItem(LeakTracker tracker, out WeakReference item)
    {
        var scope = new DisposalScope(new DisposalScopeOptions { LeakTracker = tracker });
        item = new WeakReference(scope.Add(new MemoryStream()));
        return new WeakReference(scope);
    }
}
