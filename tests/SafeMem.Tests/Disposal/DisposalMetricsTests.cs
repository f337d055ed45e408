using System.Runtime.CompilerServices;
using SafeMem.Disposal;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

public sealed class DisposalMetricsTests
{
    [Fact]
    public void Scope_PublishesOpenScopesDisposalsAndFailuresPerName()
    {
        using var factory = new TestMeterFactory();
        var options = new DisposalScopeOptions { Name = "request", MeterFactory = factory };
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));

        var open = new DisposalScope(options);
        var ended = new DisposalScope(options);
        ended.Add(new MemoryStream());
        ended.Add(() => { });
        ended.Add(() => throw new InvalidOperationException());
        Assert.Throws<InvalidOperationException>(ended.Dispose);
        DisposalScope child = open.CreateChild("request");

        Assert.Equal(2, recorder.ObserveValue("safemem.scope.count", "request"));
        Assert.Equal(3, recorder.ObserveValue("safemem.scope.disposals", "request"));
        Assert.Equal(1, recorder.ObserveValue("safemem.scope.failures", "request"));
        Assert.Equal("{scope}", recorder.Instruments["safemem.scope.count"].Unit);
        Assert.Equal("{item}", recorder.Instruments["safemem.scope.disposals"].Unit);
        Assert.Equal("{failure}", recorder.Instruments["safemem.scope.failures"].Unit);

        open.Dispose();
        Assert.Equal(0, recorder.ObserveValue("safemem.scope.count", "request"));
        Assert.Equal(4, recorder.ObserveValue("safemem.scope.disposals", "request"));
        DisposalScopeStatistics statistics = child.GetStatistics();
        Assert.Equal(0, statistics.ScopeCount);
        Assert.Equal(4, statistics.Disposals);
        Assert.Equal(1, statistics.Failures);
    }

    [Fact]
    public void Scope_TwoNames_AreSeparateSeries_AndUnnamedCountsUnderScope()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));

        using var a = new DisposalScope(new DisposalScopeOptions { Name = "a", MeterFactory = factory });
        using var b1 = new DisposalScope(new DisposalScopeOptions { Name = "b", MeterFactory = factory });
        using var b2 = new DisposalScope(new DisposalScopeOptions { Name = "b", MeterFactory = factory });
        using var unnamed = new DisposalScope(new DisposalScopeOptions { MeterFactory = factory });

        Assert.Equal(1, recorder.ObserveValue("safemem.scope.count", "a"));
        Assert.Equal(2, recorder.ObserveValue("safemem.scope.count", "b"));
        Assert.Equal(1, recorder.ObserveValue("safemem.scope.count", "scope"));
        Assert.Equal("scope", unnamed.Name);
    }

    [Fact]
    public void Tracker_PublishesObjectsAdditionsDisposalsAndLeaksByType()
    {
        using var factory = new TestMeterFactory();
        var tracker = new LeakTracker("metrics-tracker", new LeakTrackerOptions { MeterFactory = factory });
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using var leaks = new LeakRecorder(tracker);
        var live = new object();
        _ = tracker.Track(live);
        tracker.Track(new object()).Dispose();
        DropTracked(tracker);
        leaks.CollectUntil(1);

        Assert.Equal(1, recorder.ObserveValue("safemem.tracker.object.count", "metrics-tracker"));
        Assert.Equal(3, recorder.ObserveValue("safemem.tracker.additions", "metrics-tracker"));
        Assert.Equal(1, recorder.ObserveValue("safemem.tracker.disposals", "metrics-tracker"));
        Assert.Equal(1, recorder.ObserveValue("safemem.tracker.leaks", "metrics-tracker", (SafeMemTags.TrackerResourceType, "System.IO.MemoryStream")));
        Assert.Equal(0, recorder.ObserveValue("safemem.tracker.failures", "metrics-tracker"));
        Assert.Equal("{object}", recorder.Instruments["safemem.tracker.leaks"].Unit);
        Assert.All(recorder.Instruments.Values, i => Assert.False(string.IsNullOrEmpty(i.Description)));
        GC.KeepAlive(live);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropTracked(LeakTracker tracker) => _ = tracker.Track(new MemoryStream());
}
