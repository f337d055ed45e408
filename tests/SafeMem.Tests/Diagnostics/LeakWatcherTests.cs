using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

public sealed class LeakWatcherTests
{
    [Fact]
    public void Watch_DroppedObject_IsCountedCollectedAndNeverReported()
    {
        using var watcher = new LeakWatcher("dropped");
        var recorder = new WatcherHarness.Recorder(watcher);

        WeakReference dropped = WatcherHarness.WatchAndDrop(watcher);

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Collected == 1));
        Assert.False(dropped.IsAlive);
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((1, 1, 0, 0), (statistics.Watched, statistics.Collected, statistics.Retained, statistics.Pending));
        Assert.Empty(recorder.Reports);
    }

    [Fact]
    public void Watch_HeldObject_IsReportedOnceWithItsTypeDescriptionAndWatcher()
    {
        using var watcher = new LeakWatcher("held");
        var recorder = new WatcherHarness.Recorder(watcher);
        var holder = new List<object>();

        WatcherHarness.WatchAndHold(watcher, holder, "closed window 'Orders'");
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));

        // More collections judge nothing twice.
        WatcherHarness.FullCollection(watcher);
        WatcherHarness.FullCollection(watcher);

        RetainedObject report = Assert.Single(recorder.Reports);
        Assert.Equal(typeof(WatcherHarness.Payload), report.Type);
        Assert.Equal("SafeMem.Tests.Diagnostics.WatcherHarness.Payload", report.TypeName);
        Assert.Equal("closed window 'Orders'", report.Description);
        Assert.Equal("held", report.WatcherName);
        Assert.True(report.Collections >= 2, $"survived {report.Collections} collections");
        Assert.True(report.Age >= TimeSpan.Zero);
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((1, 0, 1, 0, 1), (statistics.Watched, statistics.Collected, statistics.Retained, statistics.Pending, statistics.RetainedAlive));
        Assert.Equal(1, statistics.RetainedByType["SafeMem.Tests.Diagnostics.WatcherHarness.Payload"]);
        GC.KeepAlive(holder);
    }

    [Fact]
    public void Retained_Report_ReadsAsAReport()
    {
        using var watcher = new LeakWatcher("report");
        var recorder = new WatcherHarness.Recorder(watcher);
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder, "scoped service MyApp.Cart of a disposed scope");

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));

        string text = Assert.Single(recorder.Reports).ToString();
        Assert.StartsWith("RETAINED: a SafeMem.Tests.Diagnostics.WatcherHarness.Payload is still alive ", text, StringComparison.Ordinal);
        Assert.Contains("full garbage collections after it was watched.", text, StringComparison.Ordinal);
        Assert.Contains("\n  watcher: report", text, StringComparison.Ordinal);
        Assert.Contains("\n  description: scoped service MyApp.Cart of a disposed scope", text, StringComparison.Ordinal);
        Assert.Contains("\n  age: ", text, StringComparison.Ordinal);
        Assert.Contains("SafeMem.Diagnostics.Heap", text, StringComparison.Ordinal);
        GC.KeepAlive(holder);
    }

    [Fact]
    public void Watch_SameObjectTwice_KeepsOneRecordWhilePendingAndRetained()
    {
        using var watcher = new LeakWatcher("twice");
        var recorder = new WatcherHarness.Recorder(watcher);
        var target = new WatcherHarness.Payload();

        Assert.True(watcher.Watch(target, "first"));
        Assert.False(watcher.Watch(target, "second"));
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        Assert.False(watcher.Watch(target, "third"));

        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((1, 1, 2), (statistics.Watched, statistics.Retained, statistics.DuplicateWatches));
        Assert.Equal("first", Assert.Single(recorder.Reports).Description);
        GC.KeepAlive(target);
    }

    [Fact]
    public void IsWatched_FollowsTheRecord()
    {
        using var watcher = new LeakWatcher("is-watched");
        var kept = new WatcherHarness.Payload();
        var other = new WatcherHarness.Payload();

        Assert.False(watcher.IsWatched(kept));
        watcher.Watch(kept, "kept");
        Assert.True(watcher.IsWatched(kept));
        Assert.False(watcher.IsWatched(other));
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        Assert.True(watcher.IsWatched(kept));
        Assert.Throws<ArgumentNullException>("target", () => watcher.IsWatched(null!));
        GC.KeepAlive(kept);
        GC.KeepAlive(other);
    }

    [Fact]
    public void RetainedObject_ReleasedLater_CountsAsCollectedAfterRetention()
    {
        using var watcher = new LeakWatcher("late");
        var holder = new List<object>();
        WeakReference late = WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));
        Assert.Equal(1, watcher.GetStatistics().RetainedAlive);

        holder.Clear();

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.CollectedAfterRetention == 1));
        Assert.False(late.IsAlive);
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((1, 0, 1, 0), (statistics.Retained, statistics.RetainedAlive, statistics.CollectedAfterRetention, statistics.Pending));
    }

    [Fact]
    public void MaximumRetained_ReportsEveryObjectButKeepsOnlyTheLimit()
    {
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "limit", MaximumRetained = 2 });
        var recorder = new WatcherHarness.Recorder(watcher);
        var holder = new List<object>();
        for (int i = 0; i < 3; i++)
        {
            WatcherHarness.WatchAndHold(watcher, holder);
        }

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 3));

        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((3, 2, 1), (statistics.Retained, statistics.RetainedAlive, statistics.RetainedBeyondLimit));
        Assert.Equal(3, recorder.Reports.Count);
        Assert.Equal(2, holder.Count(watcher.IsWatched));
        GC.KeepAlive(holder);
    }

    [Fact]
    public void Retained_HandlerThrows_OtherHandlersRunAndTheWatcherGoesOn()
    {
        using var watcher = new LeakWatcher("throwing");
        int seen = 0;
        watcher.Retained += (_, _) => throw new InvalidOperationException("handler bug");
        watcher.Retained += (_, _) => Interlocked.Increment(ref seen);
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        WatcherHarness.WatchAndHold(watcher, holder);

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 2));
        WeakReference afterwards = WatcherHarness.WatchAndDrop(watcher);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Collected == 1));

        Assert.Equal(2, Volatile.Read(ref seen));
        Assert.Equal(2, watcher.GetStatistics().Failures);
        Assert.False(afterwards.IsAlive);
        GC.KeepAlive(holder);
    }

    [Fact]
    public void Watch_BadInput_ThrowsAtTheBoundary()
    {
        using var watcher = new LeakWatcher("bad-input");

        Assert.Throws<ArgumentNullException>("target", () => watcher.Watch(null!, "x"));
        Assert.Throws<ArgumentNullException>("description", () => watcher.Watch(new object(), null!));
        ArgumentException boxed = Assert.Throws<ArgumentException>("target", () => watcher.Watch(42, "a boxed int"));
        Assert.Contains("boxed System.Int32", boxed.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("target", () => watcher.Watch(DateTime.UtcNow, "a boxed struct"));
        Assert.Equal(0, watcher.GetStatistics().Watched);
    }

    [Fact]
    public void Dispose_StopsWatchingAndIsIdempotent()
    {
        var watcher = new LeakWatcher("disposed");
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);

        watcher.Dispose();
        watcher.Dispose();

        ObjectDisposedException disposed = Assert.Throws<ObjectDisposedException>(() => watcher.Watch(new object(), "late"));
        Assert.Contains("'disposed'", disposed.Message, StringComparison.Ordinal);
        Assert.False(watcher.IsWatched(holder[0]));
        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((1, 0, 0), (statistics.Watched, statistics.Retained, statistics.Pending));
    }

    [Fact]
    public void Constructors_NameTheWatcher()
    {
        using var generated = new LeakWatcher();
        using var named = new LeakWatcher("named");
        using var fromOptions = new LeakWatcher(new LeakWatcherOptions { Name = "from-options", RetainedAfterCollections = 3 });
        using var both = new LeakWatcher("argument", new LeakWatcherOptions { Name = "options" });

        Assert.StartsWith("watcher-", generated.Name, StringComparison.Ordinal);
        Assert.Equal("named", named.Name);
        Assert.Equal("from-options", fromOptions.Name);
        Assert.Equal(3, fromOptions.RetainedAfterCollections);
        Assert.Equal("argument", both.Name);
        Assert.Throws<ArgumentException>(() => new LeakWatcher(" "));
        Assert.Throws<ArgumentNullException>(() => new LeakWatcher((string)null!));
        Assert.Throws<ArgumentNullException>(() => new LeakWatcher((LeakWatcherOptions)null!));
        Assert.Equal("named: 0 watched, 0 collected, 0 retained (0 still alive), 0 pending", named.ToString());
    }

    [Fact]
    public void InducedCollectionInterval_FindsARetainedObjectWithoutTheApplicationCollecting()
    {
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "induced", InducedCollectionInterval = TimeSpan.FromMilliseconds(100) });
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        WatcherHarness.WatchAndDrop(watcher);

        // No GC.Collect here: the watcher's own timer collects while objects are pending.
        WatcherHarness.WaitFor(() => watcher.GetStatistics() is { Retained: 1, Collected: 1 }, "the induced collections to judge both objects");
        GC.KeepAlive(holder);
    }
}
