using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

/// <summary>
/// "Retained after N full collections" counted exactly: alone in their collection, so no parallel test adds
/// collections, and each collection is followed by the sweep it scheduled.
/// </summary>
[Collection(FullCollectionsCollection.Name)]
public sealed class LeakWatcherCollectionCountTests
{
    private static readonly List<object> s_held = [];

    [Fact]
    public void Watch_ObjectHeldByAStaticList_IsRetainedAfterTwoFullCollectionsAndNotOne()
    {
        using var watcher = new LeakWatcher("static-list");
        var recorder = new WatcherHarness.Recorder(watcher);
        try
        {
            WatcherHarness.WatchAndHold(watcher, s_held, "order 17");
            WeakReference dropped = WatcherHarness.WatchAndDrop(watcher);

            WatcherHarness.FullCollection(watcher);
            Assert.Equal((0, 0, 2), Judged(watcher));
            Assert.False(dropped.IsAlive); // dead already, but not judged before its second collection

            WatcherHarness.FullCollection(watcher);
            Assert.Equal((1, 1, 0), Judged(watcher));
            RetainedObject report = Assert.Single(recorder.Reports);
            Assert.Equal(("order 17", 2), (report.Description, report.Collections));
        }
        finally
        {
            s_held.Clear();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void RetainedAfterCollections_IsTheNumberOfFullCollectionsWaitedFor(int collections)
    {
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "count", RetainedAfterCollections = collections });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);

        for (int i = 1; i < collections; i++)
        {
            WatcherHarness.FullCollection(watcher);
            Assert.Equal((0, 0, 1), Judged(watcher));
        }

        WatcherHarness.FullCollection(watcher);
        Assert.Equal((0, 1, 0), Judged(watcher));
        GC.KeepAlive(holder);
    }

    [Fact]
    public void Watch_AfterACollectionStarted_WaitsForCollectionsThatStartedLater()
    {
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "later", RetainedAfterCollections = 1 });
        var holder = new List<object>();
        WatcherHarness.FullCollection(watcher);

        // Watched after that collection completed: only a collection that starts afterwards may judge it.
        WatcherHarness.WatchAndHold(watcher, holder);
        Assert.Equal((0, 0, 1), Judged(watcher));
        WatcherHarness.FullCollection(watcher);
        Assert.Equal((0, 1, 0), Judged(watcher));
        GC.KeepAlive(holder);
    }

    private static (long Collected, long Retained, long Pending) Judged(LeakWatcher watcher)
    {
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        return (statistics.Collected, statistics.Retained, statistics.Pending);
    }
}
