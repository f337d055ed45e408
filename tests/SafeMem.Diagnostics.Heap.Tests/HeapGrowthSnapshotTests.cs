using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;

namespace SafeMem.Diagnostics.Heap.Tests;

[CollectionDefinition(nameof(HeapGrowthSnapshotTests), DisableParallelization = true)]
public sealed class HeapGrowthCollection
{
}

/// <summary>
/// The growth rule on real snapshots of this process: a planted leak is growth with a path of a new instance, a cache
/// filled in the first stretch is warm-up, and the inspection itself (snapshots kept side by side) adds no growth.
/// Alone in its collection: parallel tests' allocations would be growth too.
/// </summary>
[Collection(nameof(HeapGrowthSnapshotTests))]
public sealed class HeapGrowthSnapshotTests
{
    private static readonly List<GrowthLeak> s_leaks = [];
    private static readonly Dictionary<int, GrowthCacheEntry> s_cache = [];

    [Fact]
    public void Analyze_LeakAndWarmUp_GrowthHasANewInstancePath_WarmUpDoesNot()
    {
        var samples = new List<HeapGrowthSample>();
        try
        {
            for (int stretch = 0; stretch < 3; stretch++)
            {
                samples.Add(new HeapGrowthSample(stretch * 50, HeapSnapshot.Take()));
                Work(runs: 50);
            }

            samples.Add(new HeapGrowthSample(150, HeapSnapshot.Take()));

            HeapGrowthReport report = HeapGrowthAnalyzer.Analyze(samples);

            HeapTypeGrowth leak = Assert.Single(report.Growing, t => t.Type == typeof(GrowthLeak));
            Assert.Equal(HeapGrowthConfidence.High, leak.Confidence);
            Assert.Equal([0L, 100, 200, 300], leak.Counts);
            Assert.Equal(2.0, leak.CountPerWork);
            RetentionPath path = Assert.IsType<RetentionPath>(leak.NewInstancePath);
            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.HeapGrowthSnapshotTests.s_leaks", path.Root);
            Assert.Equal("HeapGrowthSnapshotTests.GrowthLeak", path.Target);
            Assert.Contains(report.WarmUp, t => t.Type == typeof(GrowthCacheEntry));
            Assert.DoesNotContain(report.Growing, t => t.Type == typeof(GrowthCacheEntry));
            Assert.Contains("static field SafeMem.Diagnostics.Heap.Tests.HeapGrowthSnapshotTests.s_leaks", report.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            s_leaks.Clear();
            s_cache.Clear();
            samples.ForEach(s => s.Snapshot!.Dispose());
        }
    }

    [Fact]
    public void Analyze_SnapshotsKeptSideBySide_TheInspectionAddsNoGrowth()
    {
        var samples = new List<HeapGrowthSample>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                samples.Add(new HeapGrowthSample(i, HeapSnapshot.Take()));
            }

            HeapGrowthReport report = HeapGrowthAnalyzer.Analyze(samples);

            Assert.False(report.HasGrowth, report.ToString());
        }
        finally
        {
            samples.ForEach(s => s.Snapshot!.Dispose());
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Work(int runs)
    {
        for (int i = 0; i < runs; i++)
        {
            s_leaks.Add(new GrowthLeak());
            s_leaks.Add(new GrowthLeak());

            // A cache of 50 entries: the first stretch fills it, later runs hit it.
            ref GrowthCacheEntry? entry = ref CollectionsMarshal.GetValueRefOrAddDefault(s_cache, i % 50, out _);
            entry ??= new GrowthCacheEntry();
        }
    }

    public sealed class GrowthLeak
    {
        public long Id { get; set; }
    }

    public sealed class GrowthCacheEntry
    {
        public long Value { get; set; }
    }
}
