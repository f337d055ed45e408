using SafeMem.Diagnostics;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Diagnostics;

// Counted exactly: a parallel test's collections would judge the last object before the figures are read.
[Collection(FullCollectionsCollection.Name)]
public sealed class LeakWatcherMetricsTests
{
    private const string PayloadType = "SafeMem.Tests.Diagnostics.WatcherHarness.Payload";

    [Fact]
    public void Watcher_PublishesItsFiguresWithItsName()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "metrics", MeterFactory = factory });
        watcher.Retained += (_, _) => throw new InvalidOperationException("handler bug");
        var holder = new List<object>();
        WatcherHarness.WatchAndHold(watcher, holder);
        WatcherHarness.WatchAndDrop(watcher);
        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Retained == 1 && s.Collected == 1));
        WatcherHarness.WatchAndHold(watcher, holder);

        Assert.Equal(3, recorder.ObserveValue("safemem.watcher.additions", "metrics"));
        Assert.Equal(1, recorder.ObserveValue("safemem.watcher.reclamations", "metrics"));
        Assert.Equal(1, recorder.ObserveValue("safemem.watcher.retentions", "metrics", (SafeMemTags.WatcherObjectType, PayloadType)));
        Assert.Equal(1, recorder.ObserveValue("safemem.watcher.pending_object.count", "metrics"));
        Assert.Equal(1, recorder.ObserveValue("safemem.watcher.retained_object.count", "metrics"));
        Assert.Equal(1, recorder.ObserveValue("safemem.watcher.handler.failures", "metrics"));
        Assert.Equal(0, recorder.ObserveValue("safemem.watcher.analyses", "metrics"));
        Assert.Equal("{object}", recorder.Instruments["safemem.watcher.additions"].Unit);
        Assert.Equal("{failure}", recorder.Instruments["safemem.watcher.handler.failures"].Unit);
        Assert.Equal("{analysis}", recorder.Instruments["safemem.watcher.analyses"].Unit);
        Assert.All(recorder.Instruments.Values, i => Assert.EndsWith(".", i.Description, StringComparison.Ordinal));

        LeakWatcherStatistics statistics = watcher.GetStatistics();
        Assert.Equal((3, 1, 1, 1, 1), (statistics.Watched, statistics.Collected, statistics.Retained, statistics.Pending, statistics.Failures));

        watcher.Dispose();
        Assert.DoesNotContain(recorder.Observe(), m => m.Name == "metrics");
        GC.KeepAlive(holder);
    }
}
