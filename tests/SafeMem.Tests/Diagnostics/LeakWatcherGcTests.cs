using System.Runtime.CompilerServices;
using SafeMem.Diagnostics;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Diagnostics;

/// <summary>The watcher holds nothing strongly: watched objects, reports and the watcher itself are collected normally.</summary>
public sealed class LeakWatcherGcTests
{
    [Fact]
    public void Watch_PendingObject_IsNotKeptAlive()
    {
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "weak", RetainedAfterCollections = LeakWatcherOptions.MaximumRetainedAfterCollections });

        WeakReference dropped = WatcherHarness.WatchAndDrop(watcher);

        GcAssert.Collected(dropped);
        Assert.Equal(1, watcher.GetStatistics().Watched);
    }

    [Fact]
    public void Watch_ObjectHeldByTheProgram_StaysAlive_Control()
    {
        // The control: the same object, watched the same way, survives when the program holds it.
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "held", RetainedAfterCollections = LeakWatcherOptions.MaximumRetainedAfterCollections });
        var holder = new List<object>();

        WeakReference held = WatcherHarness.WatchAndHold(watcher, holder);

        GcAssert.Alive(held);
        GC.KeepAlive(holder);
    }

    [Fact]
    public void RetainedObject_IsReleasedWhenTheProgramLetsGo_AndItsReportDoesNotHoldIt()
    {
        using var watcher = new LeakWatcher("released");
        var recorder = new WatcherHarness.Recorder(watcher);
        var holder = new List<object>();
        WeakReference retained = WatcherHarness.WatchAndHold(watcher, holder);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1));

        holder.Clear();

        GcAssert.Collected(retained);
        Assert.Single(recorder.Reports); // the report is kept, the object is not
    }

    [Fact]
    public void Watcher_DroppedWithoutDispose_IsCollected()
    {
        WeakReference watcher = CreateWatcherAndUseIt(keep: null);

        GcAssert.Collected(watcher);
    }

    [Fact]
    public void Watcher_KeptByTheProgram_StaysAlive_Control()
    {
        var keep = new List<object>();

        WeakReference watcher = CreateWatcherAndUseIt(keep);

        GcAssert.Alive(watcher);
        ((LeakWatcher)keep[0]).Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateWatcherAndUseIt(List<object>? keep)
    {
        // Pending and retained records, a handler, the collection callback and telemetry: none may root the watcher.
        var watcher = new LeakWatcher(new LeakWatcherOptions { InducedCollectionInterval = TimeSpan.FromHours(1) });
        watcher.Retained += (_, _) => { };
        watcher.Watch(new object(), "pending");
        watcher.Watch(s_forever, "retained eventually");
        keep?.Add(watcher);
        return new WeakReference(watcher);
    }

    private static readonly object s_forever = new();
}
