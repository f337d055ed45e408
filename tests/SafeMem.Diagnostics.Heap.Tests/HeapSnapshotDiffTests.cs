namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>Rows compared without dumps: how rows read back from files pair up.</summary>
public sealed class HeapSnapshotDiffTests
{
    [Fact]
    public void Compare_RowsByName_GrownShrunkAndGone()
    {
        HeapSnapshotDiff diff = HeapSnapshotDiff.Compare(
            [new("App.Order", 10, 400), new("App.Gone", 2, 64), new("string", 100, 3000)],
            [new("App.Order", 30, 1200), new("string", 90, 2700), new("App.New", 1, 24)]);

        Assert.Equal(["App.Order", "App.New"], diff.Grown.Select(r => r.TypeName));
        Assert.Equal(["string", "App.Gone"], diff.Shrunk.Select(r => r.TypeName));
        HeapTypeDelta order = diff.Find("App.Order")!;
        Assert.Equal((20, 800, 30, 1200), (order.CountDelta, order.BytesDelta, order.Count, order.Bytes));
        HeapTypeDelta gone = diff.Find("App.Gone")!;
        Assert.Equal((-2, -64, 0, 0), (gone.CountDelta, gone.BytesDelta, gone.Count, gone.Bytes));
        Assert.Equal(30 + 90 + 1 - (10 + 2 + 100), diff.CountDelta);
        Assert.Equal(1200 + 2700 + 24 - (400 + 64 + 3000), diff.BytesDelta);
        Assert.Null(diff.Find("App.Unchanged"));
    }

    [Fact]
    public void Compare_TwoTypesOfOneName_PairByMethodTable()
    {
        // One type loaded in two load contexts: two rows of one name, told apart by their method tables.
        HeapSnapshotDiff diff = HeapSnapshotDiff.Compare(
            [new("App.Plugin", 5, 100, methodTable: 0x10), new("App.Plugin", 7, 140, methodTable: 0x20)],
            [new("App.Plugin", 5, 100, methodTable: 0x10), new("App.Plugin", 9, 180, methodTable: 0x20)]);

        HeapTypeDelta row = Assert.Single(diff.Grown);
        Assert.Equal((2, 40, 9), (row.CountDelta, row.BytesDelta, row.Count));
        Assert.Empty(diff.Shrunk);
    }

    [Fact]
    public void Compare_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("before", () => HeapSnapshotDiff.Compare(null!, []));
        Assert.Throws<ArgumentNullException>("after", () => HeapSnapshotDiff.Compare([], null!));
        Assert.Throws<ArgumentNullException>("after", () => HeapSnapshotDiff.Compare([], [null!]));
        Assert.Throws<ArgumentOutOfRangeException>("count", () => new HeapTypeSummary("T", -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>("bytes", () => new HeapTypeSummary("T", 0, -1));
        Assert.Throws<ArgumentNullException>("typeName", () => new HeapTypeSummary(null!, 0, 0));
    }
}
