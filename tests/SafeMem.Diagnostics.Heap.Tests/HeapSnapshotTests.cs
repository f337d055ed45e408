using Xunit.Abstractions;

namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// Two snapshots around one planted growth, shared by every test of the class (a snapshot costs a dump, about a
/// second): the rows, the diff, its table and the retention paths are all checked on the same pair.
/// </summary>
public sealed class HeapSnapshotTests(HeapSnapshotTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<HeapSnapshotTests.Fixture>
{
    public const int Planted = 1000;

    [Fact]
    public void Take_CountsEveryLiveInstanceOfAType()
    {
        HeapTypeSummary row = Assert.IsType<HeapTypeSummary>(fixture.After.Find(typeof(SnapshotItem)));

        Assert.Equal(Planted, row.Count);
        Assert.Equal("SafeMem.Diagnostics.Heap.Tests.HeapSnapshotTests.SnapshotItem", row.TypeName);
        Assert.True(row.Bytes >= Planted * 3 * sizeof(long), $"{row.Bytes} bytes for {Planted} objects of three longs");
        Assert.Null(fixture.Before.Find(typeof(SnapshotItem)));
        Assert.Equal(fixture.After.Types.Sum(t => t.Count), fixture.After.TotalCount);
        Assert.Equal(fixture.After.Types.OrderByDescending(t => t.Bytes).Select(t => t.Bytes), fixture.After.Types.Select(t => t.Bytes));
    }

    [Fact]
    public void Diff_ListsTheGrownTypeWithItsDeltas_LargestBytesFirst()
    {
        HeapSnapshotDiff diff = HeapSnapshot.Diff(fixture.Before, fixture.After);

        HeapTypeDelta grown = Assert.Single(diff.Grown, row => row.Type == typeof(SnapshotItem));
        Assert.Equal(Planted, grown.CountDelta);
        Assert.Equal(fixture.After.Find(typeof(SnapshotItem))!.Bytes, grown.BytesDelta);
        Assert.Equal(diff.Grown.OrderByDescending(r => r.BytesDelta).Select(r => r.BytesDelta), diff.Grown.Select(r => r.BytesDelta));
        Assert.All(diff.Grown, row => Assert.True(row.BytesDelta > 0 || row.CountDelta > 0));
        Assert.All(diff.Shrunk, row => Assert.True(row.BytesDelta < 0 || row.CountDelta < 0));
        Assert.Same(grown, diff.Find(typeof(SnapshotItem)));
    }

    [Fact]
    public void Diff_ToString_PrintsAReadableTable()
    {
        // Other test classes allocate in parallel between the two snapshots, so the planted type is not always among
        // the very largest rows: print enough of them.
        string table = HeapSnapshot.Diff(fixture.Before, fixture.After).ToString(maxRows: 200);
        output.WriteLine(table);

        string[] lines = table.Split('\n');
        Assert.Contains("Bytes Δ", lines[0]);
        Assert.Contains("Count Δ", lines[0]);
        Assert.Contains(lines, line => line.EndsWith("SafeMem.Diagnostics.Heap.Tests.HeapSnapshotTests.SnapshotItem", StringComparison.Ordinal) && line.Contains("+1,000", StringComparison.Ordinal));
        Assert.EndsWith("(whole heap)", lines[^1]);
    }

    [Fact]
    public void FindRetentionPaths_MatchingObjects_ReturnsPathFromTheirStaticRoot()
    {
        IReadOnlyList<RetentionPath> paths = fixture.After.FindRetentionPaths(o => o.Is<SnapshotItem>(), maxPaths: 2);

        Assert.Equal(2, paths.Count);
        Assert.All(paths, path =>
        {
            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.HeapSnapshotTests.Fixture.s_items", path.Root);
            Assert.Equal("List<HeapSnapshotTests.SnapshotItem>._items", path.Hops[0]);
            Assert.Equal("HeapSnapshotTests.SnapshotItem", path.Target);
        });
        Assert.Equal(Planted, fixture.After.Count(o => o.Type == typeof(SnapshotItem)));
        Assert.Empty(fixture.After.FindRetentionPaths(o => o.TypeName == "No.Such.Type"));
    }

    [Fact]
    public void Members_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("before", () => HeapSnapshot.Diff(null!, fixture.After));
        Assert.Throws<ArgumentNullException>("after", () => HeapSnapshot.Diff(fixture.Before, null!));
        Assert.Throws<ArgumentNullException>("predicate", () => fixture.After.FindRetentionPaths(null!));
        Assert.Throws<ArgumentOutOfRangeException>("maxPaths", () => fixture.After.FindRetentionPaths(_ => true, 0));
        Assert.Throws<ArgumentOutOfRangeException>("maxRows", () => fixture.After.ToString(0));
    }

    [Fact]
    public void Dispose_ReleasesTheDump_RowsStayReadable()
    {
        // The before snapshot is only needed for its rows: disposing it here shows what still works.
        fixture.Before.Dispose();

        Assert.Throws<ObjectDisposedException>(() => fixture.Before.FindRetentionPaths(_ => true));
        Assert.Throws<ObjectDisposedException>(() => fixture.Before.Count(_ => true));
        Assert.NotEmpty(fixture.Before.Types);
        Assert.NotEmpty(HeapSnapshot.Diff(fixture.Before, fixture.After).Grown);
        Assert.Contains("(whole heap,", fixture.Before.ToString());
    }

    public sealed class SnapshotItem
    {
        public long A { get; set; }

        public long B { get; set; }

        public long C { get; set; }
    }

    public sealed class Fixture : IDisposable
    {
        private static readonly List<SnapshotItem> s_items = [];

        public Fixture()
        {
            Before = HeapSnapshot.Take();
            for (int i = 0; i < Planted; i++)
            {
                s_items.Add(new SnapshotItem { A = i });
            }

            After = HeapSnapshot.Take();
        }

        public HeapSnapshot Before { get; }

        public HeapSnapshot After { get; }

        public void Dispose()
        {
            s_items.Clear();
            Before.Dispose();
            After.Dispose();
        }
    }
}
