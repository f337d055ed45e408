namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>The growth rule on rows alone (no dumps): what counts as growth, what as warm-up, and the confidence.</summary>
public sealed class HeapGrowthAnalyzerTests
{
    [Fact]
    public void Analyze_RiseInProportionToTheWork_IsGrowthWithConfidenceByStretches()
    {
        HeapGrowthReport two = Analyze([0, 100], ("App.Order", [5, 105]));
        HeapGrowthReport three = Analyze([0, 100, 200], ("App.Order", [5, 105, 205]));
        HeapGrowthReport four = Analyze([0, 100, 200, 300], ("App.Order", [5, 105, 205, 305]));

        Assert.Equal(HeapGrowthConfidence.Low, Assert.Single(two.Growing).Confidence);
        Assert.Equal(HeapGrowthConfidence.Medium, Assert.Single(three.Growing).Confidence);
        Assert.Equal(HeapGrowthConfidence.High, Assert.Single(four.Growing).Confidence);
        HeapTypeGrowth order = four.Growing[0];
        Assert.Equal(1.0, order.CountPerWork);
        Assert.Equal(300, order.CountRise);
        Assert.Equal([5L, 105, 205, 305], order.Counts);
        Assert.Equal(HeapGrowthConfidence.High, four.Confidence);
        Assert.True(four.HasGrowth);
    }

    [Fact]
    public void Analyze_RiseThatStopsOrDecays_IsWarmUp()
    {
        HeapGrowthReport report = Analyze(
            [0, 100, 200, 300],
            ("App.CacheEntry", [0, 1000, 1000, 1000]),   // a cache filled by the first runs, then at its bound
            ("App.JitData", [100, 400, 460, 470]),        // rises ever slower
            ("App.Singleton", [0, 1, 1, 1]),              // created once
            ("App.Steady", [50, 50, 50, 50]),
            ("App.Shrinking", [50, 40, 30, 20]));

        Assert.False(report.HasGrowth);
        Assert.Equal(HeapGrowthConfidence.None, report.Confidence);
        Assert.Equal(["App.CacheEntry", "App.JitData", "App.Singleton"], report.WarmUp.Select(t => t.TypeName).Order(StringComparer.Ordinal));
        Assert.All(report.WarmUp, t => Assert.Equal(HeapGrowthConfidence.None, t.Confidence));
        Assert.Null(report.Find("App.Steady"));
        Assert.Null(report.Find("App.Shrinking"));
        Assert.StartsWith("No type grew with the work over 3 stretches", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_StretchesOfDifferentLength_JudgesTheRisePerUnitOfWork()
    {
        // Seconds of traffic between snapshots, not equal: 10 s then 30 s.
        HeapGrowthReport proportional = Analyze([0, 10, 40], ("App.Session", [0, 20, 80]));
        HeapGrowthReport slowing = Analyze([0, 10, 40], ("App.Session", [0, 20, 40]));

        Assert.Equal(2.0, Assert.Single(proportional.Growing).CountPerWork);
        Assert.False(slowing.HasGrowth);
    }

    [Fact]
    public void Analyze_SpeedingUpOrSlowLeak_IsGrowth_ButALeakSlowerThanAStretchIsNot()
    {
        HeapGrowthReport report = Analyze(
            [0, 100, 200, 300],
            ("App.Doubling", [1, 2, 4, 8]),
            ("App.OnePerTenRuns", [0, 10, 20, 30]),
            ("App.OnePerThousandRuns", [0, 0, 1, 1]));

        Assert.Equal(["App.OnePerTenRuns", "App.Doubling"], report.Growing.Select(t => t.TypeName));
        Assert.Equal("App.OnePerThousandRuns", Assert.Single(report.WarmUp).TypeName);
    }

    [Fact]
    public void Analyze_Options_DecayToleranceAndMinimumRise()
    {
        var strict = new HeapGrowthOptions { DecayTolerance = 1 };
        var coarse = new HeapGrowthOptions { MinimumRise = 20 };

        Assert.True(Analyze([0, 1, 2], null, ("T", [0, 10, 19])).HasGrowth);
        Assert.False(Analyze([0, 1, 2], strict, ("T", [0, 10, 19])).HasGrowth);
        Assert.False(Analyze([0, 1, 2], coarse, ("T", [0, 10, 19])).HasGrowth);
    }

    [Fact]
    public void Analyze_RowsOfOneNameAreSummed_AndTheReportPrintsATable()
    {
        var samples = new[]
        {
            new HeapGrowthSample(0, [new HeapTypeSummary("App.Plugin", 1, 10, 0x1), new HeapTypeSummary("App.Plugin", 1, 10, 0x2)]),
            new HeapGrowthSample(50, [new HeapTypeSummary("App.Plugin", 26, 260, 0x1), new HeapTypeSummary("App.Plugin", 26, 260, 0x2)]),
            new HeapGrowthSample(100, [new HeapTypeSummary("App.Plugin", 51, 510, 0x1), new HeapTypeSummary("App.Plugin", 51, 510, 0x2)]),
        };

        HeapGrowthReport report = HeapGrowthAnalyzer.Analyze(samples, new HeapGrowthOptions { WorkUnit = "request" });

        HeapTypeGrowth plugin = Assert.Single(report.Growing);
        Assert.Equal([2L, 52, 102], plugin.Counts);
        Assert.Equal(10.0, plugin.BytesPerWork);
        Assert.Null(plugin.NewInstancePath);
        string text = report.ToString();
        Assert.Contains("1 type grew with the work (requests done at each snapshot: 0, 50, 100; Medium confidence)", text, StringComparison.Ordinal);
        Assert.Contains("Instances/request", text, StringComparison.Ordinal);
        Assert.Contains("+1 ", text, StringComparison.Ordinal);
        Assert.Contains("App.Plugin (2 -> 52 -> 102)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NewThreadsOwnState_IsWarmUp_ButTheSameRiseFromAStaticIsGrowth()
    {
        // What a new thread-pool thread brings (seen in an idle process: one more thread per snapshot), beside a slow
        // leak of the same pace from a static list, and a large rise through the same per-thread holder.
        var poolBuffer = new RetentionPath(RetentionRootKind.Other, "[ThreadStatic] System.Buffers.SharedArrayPool<int>.t_tlsBuckets", ["SharedArrayPoolThreadLocalArray[][5]", "SharedArrayPoolThreadLocalArray.Array"], "int[]");
        var threadLocals = new RetentionPath(RetentionRootKind.StaticField, "static field System.Threading.PortableThreadPool.HillClimbing.ThreadPoolHillClimber", ["PortableThreadPool.HillClimbing._randomIntervalGenerator"], "Random.XoshiroImpl");
        var threadStatics = new RetentionPath(RetentionRootKind.GCHandle, "GC handle (Strong)", [], "object[]");
        var primitiveStatics = new RetentionPath(RetentionRootKind.GCHandle, "GC handle (Strong)", [], "long[]");
        var thread = new RetentionPath(RetentionRootKind.GCHandle, "GC handle (Strong)", [], "Thread");
        RetentionPath? noPath = null;
        var ownSnapshot = new RetentionPath(RetentionRootKind.StackLocal, "local variable in LeakAssert.GrowthSeries.Sample (thread 12)", ["LeakAssert.GrowthSeries._samples", "List<HeapGrowthSample>._items", "HeapGrowthSample[][0]", "HeapGrowthSample.Snapshot", "HeapSnapshot._dump", "HeapDump._file", "FileStream._strategy", "BufferedFileStreamStrategy._buffer"], "byte[]");
        var counterNode = new RetentionPath(RetentionRootKind.GCHandle, "GC handle (Strong)", ["object[][9]"], "ThreadInt64PersistentCounter.ThreadLocalNode");
        var leak = new RetentionPath(RetentionRootKind.StaticField, "static field App.Orders.s_all", ["List<Order>._items", "Order[][3]"], "Order");
        var flood = new RetentionPath(RetentionRootKind.GCHandle, "GC handle (Strong)", ["object[][8]", "ThreadPoolWorkQueueThreadLocals.workStealingQueue", "WorkItem[][0]"], "App.Job");
        (string Type, RetentionPath? Path, long[] Counts)[] rows =
        [
            ("int[]", poolBuffer, [499, 500, 502]),
            ("System.Random.XoshiroImpl", threadLocals, [2, 3, 4]),
            ("object[]", threadStatics, [9, 10, 11]),
            ("long[]", primitiveStatics, [3, 4, 5]),
            ("System.Threading.Thread", thread, [5, 6, 7]),
            ("byte[]", ownSnapshot, [615, 617, 623]),
            ("System.Buffers.SharedArrayPoolThreadLocalArray[]", noPath, [28, 30, 35]),
            ("App.Buffers.SharedArrayPoolThreadLocalArray", noPath, [2, 4, 6]),
            ("System.Threading.ThreadInt64PersistentCounter.ThreadLocalNode", counterNode, [3, 4, 5]),
            ("App.Order", leak, [2, 3, 4]),
            ("App.Job", flood, [0, 100, 200]),
        ];
        var samples = Enumerable.Range(0, 3).Select(i => new HeapGrowthSample(
            i * 50,
            new HeapSnapshotRecord(
                1,
                "app",
                DateTimeOffset.UnixEpoch,
                rows.Select(r => new HeapTypeSummary(r.Type, r.Counts[i], r.Counts[i] * 24)),
                rows.Where(r => r.Path is not null).Select(r => new HeapRetentionGroup(r.Type, 0, r.Counts[i], r.Counts[i] * 24, r.Path!)),
                []))).ToList();

        HeapGrowthReport report = HeapGrowthAnalyzer.Analyze(samples, new HeapGrowthOptions { MaxPathTypes = 1 });

        Assert.Equal(["App.Job", "App.Buffers.SharedArrayPoolThreadLocalArray", "App.Order"], report.Growing.Select(t => t.TypeName));
        Assert.Equal(["System.Buffers.SharedArrayPoolThreadLocalArray[]", "System.Random.XoshiroImpl", "System.Threading.Thread", "System.Threading.ThreadInt64PersistentCounter.ThreadLocalNode", "byte[]", "int[]", "long[]", "object[]"], report.WarmUp.Select(t => t.TypeName).Order(StringComparer.Ordinal));
        Assert.All(report.WarmUp.Where(t => t.NewInstancePath is not null), t => Assert.True(HeapGrowthAnalyzer.IsRuntimeOrInspectionState(t.NewInstancePath!)));
        Assert.Null(report.Find("System.Buffers.SharedArrayPoolThreadLocalArray[]")!.NewInstancePath);
        Assert.Same(flood, report.Growing[0].NewInstancePath);
        Assert.Null(report.Growing[2].NewInstancePath);

        // Rows alone (no paths): only the runtime's own internal types are told apart, by name; the other small risers
        // stay growth.
        HeapGrowthReport rowsOnly = HeapGrowthAnalyzer.Analyze(samples.Select(s => new HeapGrowthSample(s.Work, s.Types)).ToList());
        Assert.Equal(9, rowsOnly.Growing.Count);
        Assert.Equal(["System.Buffers.SharedArrayPoolThreadLocalArray[]", "System.Threading.ThreadInt64PersistentCounter.ThreadLocalNode"], rowsOnly.WarmUp.Select(t => t.TypeName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Analyze_BadInput_Throws()
    {
        HeapGrowthSample a = new(0, []);
        HeapGrowthSample b = new(1, []);

        Assert.Throws<ArgumentNullException>("samples", () => HeapGrowthAnalyzer.Analyze(null!));
        Assert.Throws<ArgumentException>("samples", () => HeapGrowthAnalyzer.Analyze([a]));
        Assert.Throws<ArgumentException>("samples", () => HeapGrowthAnalyzer.Analyze([b, a]));
        Assert.Throws<ArgumentException>("samples", () => HeapGrowthAnalyzer.Analyze([a, a]));
        Assert.Throws<ArgumentNullException>("samples", () => HeapGrowthAnalyzer.Analyze([a, null!]));
        Assert.Throws<ArgumentOutOfRangeException>("work", () => new HeapGrowthSample(-1, []));
        Assert.Throws<ArgumentOutOfRangeException>("work", () => new HeapGrowthSample(double.NaN, []));
        Assert.Throws<ArgumentOutOfRangeException>("work", () => new HeapGrowthSample(double.PositiveInfinity, []));
        Assert.Throws<ArgumentNullException>("types", () => new HeapGrowthSample(0, (IEnumerable<HeapTypeSummary>)null!));
        Assert.Throws<ArgumentNullException>("types", () => new HeapGrowthSample(0, [null!]));
        Assert.Throws<ArgumentNullException>("snapshot", () => new HeapGrowthSample(0, (HeapSnapshot)null!));
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new HeapGrowthOptions { DecayTolerance = 0 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new HeapGrowthOptions { DecayTolerance = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new HeapGrowthOptions { DecayTolerance = double.NaN });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new HeapGrowthOptions { MinimumRise = 0 });
        Assert.Throws<ArgumentOutOfRangeException>("value", () => new HeapGrowthOptions { MaxPathTypes = 21 });
        Assert.Throws<ArgumentException>("value", () => new HeapGrowthOptions { WorkUnit = " " });
    }

    private static HeapGrowthReport Analyze(double[] work, params (string Name, long[] Counts)[] types) => Analyze(work, null, types);

    private static HeapGrowthReport Analyze(double[] work, HeapGrowthOptions? options, params (string Name, long[] Counts)[] types)
        => HeapGrowthAnalyzer.Analyze(
            work.Select((w, i) => new HeapGrowthSample(w, types.Select(t => new HeapTypeSummary(t.Name, t.Counts[i], t.Counts[i] * 24)))).ToList(),
            options);
}
