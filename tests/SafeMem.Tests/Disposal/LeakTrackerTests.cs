using System.Runtime.CompilerServices;
using SafeMem.Disposal;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

public sealed class LeakTrackerTests
{
    [Fact]
    public void Track_ObjectDroppedUndisposed_IsReportedOnceWithCreationStackNamingTheTestMethod()
    {
        var tracker = new LeakTracker("leaky", new LeakTrackerOptions { CaptureStackTrace = true });
        using var recorder = new LeakRecorder(tracker);

        CreateAndDrop(tracker);
        IReadOnlyList<LeakReport> reports = recorder.CollectUntil(1);
        recorder.CollectAndSettle();

        LeakReport report = Assert.Single(recorder.Reports);
        Assert.Equal(typeof(Resource), report.ResourceType);
        Assert.Equal("leaky", report.TrackerName);
        Assert.True(report.Age > TimeSpan.Zero);
        Assert.NotNull(report.CreationStackTrace);
        Assert.Contains(nameof(Track_ObjectDroppedUndisposed_IsReportedOnceWithCreationStackNamingTheTestMethod), report.CreationStackTrace);
        Assert.Contains(nameof(CreateAndDrop), report.CreationStackTrace);
        Assert.DoesNotContain("SafeMem.Disposal.LeakTracker.Track", report.CreationStackTrace);
        Assert.False(recorder.AnyOffThreadPool);
        Assert.True(recorder.AllFromTracker);
        Assert.Equal(1, tracker.GetStatistics().Leaks);
        Assert.Single(reports);
    }

    [Fact]
    public void Track_DisposedObject_IsNeverReported()
    {
        var tracker = new LeakTracker("tidy");
        using var recorder = new LeakRecorder(tracker);

        CreateAndDispose(tracker, count: 50);
        // A control leaks one object in the same run, so the test proves reports do arrive when they should.
        CreateAndDrop(tracker);
        recorder.CollectUntil(1);
        recorder.CollectAndSettle();

        Assert.Single(recorder.Reports);
        LeakTrackerStatistics statistics = tracker.GetStatistics();
        Assert.Equal(51, statistics.Additions);
        Assert.Equal(50, statistics.Disposals);
        Assert.Equal(1, statistics.Leaks);
        Assert.Equal(0, statistics.ObjectCount);
    }

    [Fact]
    public void Track_WithoutStackCapture_ReportHasNoStackAndSaysHowToGetOne()
    {
        var tracker = new LeakTracker("no-stack");
        using var recorder = new LeakRecorder(tracker);

        CreateAndDrop(tracker);
        LeakReport report = Assert.Single(recorder.CollectUntil(1));

        Assert.Null(report.CreationStackTrace);
        Assert.Contains("CaptureStackTrace", report.ToString());
    }

    [Fact]
    public void Report_ToString_NamesTypeTrackerAgeAndStack()
    {
        var tracker = new LeakTracker("readable", new LeakTrackerOptions { CaptureStackTrace = true });
        using var recorder = new LeakRecorder(tracker);

        CreateAndDrop(tracker);
        string text = Assert.Single(recorder.CollectUntil(1)).ToString();

        Assert.Contains("SafeMem.Tests.Disposal.LeakTrackerTests.Resource", text);
        Assert.Contains("tracker: readable", text);
        Assert.Contains("age: ", text);
        Assert.Contains("created at:", text);
        Assert.Contains(nameof(Report_ToString_NamesTypeTrackerAgeAndStack), text);
    }

    [Fact]
    public void Track_HandleDisposedTwice_CountsOneDisposal()
    {
        var tracker = new LeakTracker("twice");
        var resource = new Resource(tracker);

        resource.Dispose();
        resource.Dispose();

        Assert.Equal(1, tracker.GetStatistics().Disposals);
        Assert.False(tracker.IsTracked(resource));
    }

    [Fact]
    public void Track_Null_Throws()
    {
        var tracker = new LeakTracker();

        Assert.Throws<ArgumentNullException>(() => tracker.Track(null!));
    }

    [Fact]
    public void Track_ObjectAlreadyTrackedUnderOpenHandle_ThrowsAndKeepsTheFirstRecord()
    {
        var tracker = new LeakTracker("again");
        var resource = new object();
        LeakHandle first = tracker.Track(resource);

        Assert.Throws<InvalidOperationException>(() => tracker.Track(resource));
        Assert.True(first.IsTracking);
        Assert.Equal(1, tracker.GetStatistics().Additions);

        first.Dispose();
        LeakHandle second = tracker.Track(resource);
        Assert.True(second.IsTracking);
        second.Dispose();
    }

    [Fact]
    public void Track_SamplingZero_TracksNothing()
    {
        var tracker = new LeakTracker("none", new LeakTrackerOptions { SamplingRate = 0 });
        var objects = new List<object>();

        for (int i = 0; i < 10_000; i++)
        {
            var o = new object();
            objects.Add(o);
            Assert.False(tracker.Track(o).IsTracking);
        }

        Assert.Equal(0, tracker.GetStatistics().Additions);
        GC.KeepAlive(objects);
    }

    [Fact]
    public void Track_SamplingOne_TracksEverything()
    {
        var tracker = new LeakTracker("all", new LeakTrackerOptions { SamplingRate = 1 });
        var handles = new List<LeakHandle>();

        for (int i = 0; i < 10_000; i++)
        {
            LeakHandle handle = tracker.Track(new object());
            Assert.True(handle.IsTracking);
            handles.Add(handle);
        }

        Assert.Equal(10_000, tracker.GetStatistics().Additions);
        handles.ForEach(h => h.Dispose());
    }

    [Fact]
    public void Track_SamplingOneIn128_TracksAboutOneIn128()
    {
        // n = 128,000 independent trials at p = 1/128: mean 1000, standard deviation 31.5. Six deviations (±190) make
        // a false failure a two-in-a-billion event, while a broken sampler (0, all, or off by 2x) fails by far.
        const int calls = 128_000;
        var tracker = new LeakTracker("sampled", new LeakTrackerOptions { SamplingRate = 1.0 / 128 });
        var handles = new List<LeakHandle>();

        for (int i = 0; i < calls; i++)
        {
            LeakHandle handle = tracker.Track(new object());
            if (handle.IsTracking)
            {
                handles.Add(handle);
            }
        }

        Assert.InRange(handles.Count, 1000 - 190, 1000 + 190);
        Assert.Equal(handles.Count, tracker.GetStatistics().Additions);
        handles.ForEach(h => h.Dispose());
    }

    [Fact]
    public void LeakDetected_HandlerThrows_OtherHandlersStillRunAndFailureIsCounted()
    {
        var tracker = new LeakTracker("failing");
        tracker.LeakDetected += (_, _) => throw new InvalidOperationException("handler bug");
        using var recorder = new LeakRecorder(tracker);

        CreateAndDrop(tracker);
        Assert.Single(recorder.CollectUntil(1));

        Assert.Equal(1, tracker.GetStatistics().Failures);
    }

    [Fact]
    public void Statistics_LeaksByType_CountsEachType()
    {
        var tracker = new LeakTracker("types");
        using var recorder = new LeakRecorder(tracker);

        CreateAndDrop(tracker);
        CreateAndDrop(tracker);
        CreateAndDropList(tracker);
        recorder.CollectUntil(3);

        IReadOnlyDictionary<string, long> byType = tracker.GetStatistics().LeaksByType;
        Assert.Equal(2, byType["SafeMem.Tests.Disposal.LeakTrackerTests.Resource"]);
        Assert.Equal(1, byType["System.Collections.Generic.List<int>"]);
    }

    [Fact]
    public void Leak_OfANestedTypeOfAGenericType_IsNamedAsCSharpWritesItInReportStatisticsAndTag()
    {
        // Issue 20.10: Outer<int>.Inner was reported as Outer.Inner<System.Int32>.
        using var factory = new TestMeterFactory();
        var tracker = new LeakTracker("nested-generic", new LeakTrackerOptions { MeterFactory = factory });
        using var metrics = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using var recorder = new LeakRecorder(tracker);
        const string Expected = "SafeMem.Tests.Disposal.TypeNamesTests.Outer<int>.Inner";

        CreateAndDropNested(tracker);
        LeakReport report = Assert.Single(recorder.CollectUntil(1));

        Assert.Equal(Expected, report.ResourceTypeName);
        Assert.Contains(Expected, report.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, tracker.GetStatistics().LeaksByType[Expected]);
        Assert.Equal(1, metrics.ObserveValue("safemem.tracker.leaks", "nested-generic", (SafeMemTags.TrackerResourceType, Expected)));
    }

    [Fact]
    public void Constructor_GeneratesUniqueNamesWhenUnnamed()
    {
        var a = new LeakTracker();
        var b = new LeakTracker(new LeakTrackerOptions());

        Assert.StartsWith("tracker-", a.Name, StringComparison.Ordinal);
        Assert.NotEqual(a.Name, b.Name);
        Assert.Equal("given", new LeakTracker("given", new LeakTrackerOptions { Name = "ignored" }).Name);
        Assert.Equal("from-options", new LeakTracker(new LeakTrackerOptions { Name = "from-options" }).Name);
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new LeakTracker((LeakTrackerOptions)null!));
        Assert.Throws<ArgumentNullException>(() => new LeakTracker("x", null!));
        Assert.ThrowsAny<ArgumentException>(() => new LeakTracker(" "));
        Assert.ThrowsAny<ArgumentException>(() => new LeakTracker(string.Empty, new LeakTrackerOptions()));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void CreateAndDrop(LeakTracker tracker) => _ = new Resource(tracker);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CreateAndDropList(LeakTracker tracker) => _ = tracker.Track(new List<int>());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CreateAndDropNested(LeakTracker tracker) => _ = tracker.Track(new TypeNamesTests.Outer<int>.Inner());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CreateAndDispose(LeakTracker tracker, int count)
    {
        for (int i = 0; i < count; i++)
        {
            new Resource(tracker).Dispose();
        }
    }

    /// <summary>A user's disposable type with tracking added in two lines.</summary>
    internal sealed class Resource : IDisposable
    {
        private readonly LeakHandle _leak;

        public Resource(LeakTracker tracker) => _leak = tracker.Track(this);

        public void Dispose() => _leak.Dispose();
    }
}
