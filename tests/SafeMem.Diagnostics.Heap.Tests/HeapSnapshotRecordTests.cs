namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// Snapshot records and the snapshot file: what a diff and a retention path need, kept after the dump is gone, and
/// read back unchanged; files that are not snapshot records fail clearly.
/// </summary>
public sealed class HeapSnapshotRecordTests
{
    private const string ItemName = "SafeMem.Diagnostics.Heap.Tests.TargetProcess.TargetItem";
    private const string GarbageName = "SafeMem.Diagnostics.Heap.Tests.TargetProcess.TargetGarbage";

    [Fact]
    public void Create_AnotherProcess_GroupsTheListsItemsUnderTheStaticFieldAndSurvivesAFile()
    {
        HeapSnapshotRecord record;
        using (TargetProcess target = TargetProcess.Start())
        {
            using HeapSnapshot snapshot = HeapSnapshot.TakeFromProcess(target.Id);
            record = HeapSnapshotRecord.Create(snapshot, "heap-target");
            Assert.True(snapshot.DumpDuration > TimeSpan.Zero);
            Assert.True(snapshot.DumpBytes > 0);
        }

        // The snapshot is disposed and its process gone: the record holds what the file needs.
        Assert.Equal("heap-target", record.ProcessName);
        Assert.Equal(TargetProcess.Kept, record.Types.Single(t => t.TypeName == ItemName).Count);
        HeapRetentionGroup items = Assert.Single(record.GroupsOf(ItemName));
        Assert.Equal(TargetProcess.Kept, items.Count);
        Assert.Equal(RetentionRootKind.StaticField, items.Example.RootKind);
        Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.TargetProcess.s_items", items.Example.Root);
        Assert.Equal("TargetProcess.TargetItem", items.Example.Target);

        // The example is the element the walk reached last: the list's highest index, its newest item.
        Assert.Contains($"TargetProcess.TargetItem[][{TargetProcess.Kept - 1}]", items.Example.Hops);

        // Unreachable objects are in no row and no group.
        Assert.Empty(record.GroupsOf(GarbageName));
        Assert.DoesNotContain(record.Types, t => t.TypeName == GarbageName);

        // Every group's count is within its type's row, and no type has more groups than the record keeps.
        foreach (IGrouping<string, HeapRetentionGroup> type in record.RetentionGroups.GroupBy(g => g.TypeName))
        {
            Assert.True(type.Count() <= HeapSnapshotRecord.MaxGroupsPerType);
            Assert.True(type.Sum(g => g.Count) <= record.Types.Where(t => t.TypeName == type.Key).Sum(t => t.Count), type.Key);
        }

        using var file = new MemoryStream();
        record.Write(file);
        file.Position = 0;
        HeapSnapshotRecord read = HeapSnapshotRecord.Read(file);

        Assert.Equal(record.ProcessId, read.ProcessId);
        Assert.Equal(record.ProcessName, read.ProcessName);
        Assert.Equal(record.TakenAt, read.TakenAt);
        Assert.True(record.DumpWriteTime > TimeSpan.Zero);
        Assert.Equal(record.DumpWriteTime, read.DumpWriteTime);
        Assert.Equal(record.Types.Select(Row), read.Types.Select(Row));
        Assert.Equal(record.RetentionGroups.Select(Group), read.RetentionGroups.Select(Group));
        Assert.Equal(record.InspectionNotes, read.InspectionNotes);
        Assert.Empty(HeapSnapshotDiff.Compare(record.Types, read.Types).Grown);

        // Compact: a small fraction of the dump it came from.
        Assert.True(file.Length < 64 * 1024, $"{file.Length} bytes");
    }

    [Fact]
    public void Read_NotASnapshotFile_ThrowsInvalidData()
    {
        using var text = new MemoryStream("{ \"not\": \"a snapshot\" }"u8.ToArray());

        InvalidDataException failure = Assert.Throws<InvalidDataException>(() => HeapSnapshotRecord.Read(text));

        Assert.Equal("not a SafeMem heap snapshot file", failure.Message);
    }

    [Fact]
    public void Read_NewerFormatVersion_ThrowsInvalidDataNamingTheVersions()
    {
        using var file = new MemoryStream();
        SampleRecord().Write(file);
        byte[] bytes = file.ToArray();
        bytes[8] = 9;

        InvalidDataException failure = Assert.Throws<InvalidDataException>(() => HeapSnapshotRecord.Read(new MemoryStream(bytes)));

        Assert.Equal("a SafeMem heap snapshot file of format version 9; this version of SafeMem reads version 1", failure.Message);
    }

    [Fact]
    public void Read_TruncatedFile_ThrowsInvalidData()
    {
        using var file = new MemoryStream();
        SampleRecord().Write(file);
        byte[] bytes = file.ToArray()[..(int)(file.Length / 2)];

        InvalidDataException failure = Assert.Throws<InvalidDataException>(() => HeapSnapshotRecord.Read(new MemoryStream(bytes)));

        Assert.StartsWith("a damaged SafeMem heap snapshot file", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_ThenLoad_GivesTheSameRecord()
    {
        string path = Path.Combine(Path.GetTempPath(), $"safemem-record-{Guid.NewGuid():N}.safemem");
        try
        {
            HeapSnapshotRecord record = SampleRecord();
            record.Save(path);

            HeapSnapshotRecord read = HeapSnapshotRecord.Load(path);

            Assert.Equal(record.Types.Select(Row), read.Types.Select(Row));
            Assert.Equal(record.RetentionGroups.Select(Group), read.RetentionGroups.Select(Group));
            Assert.Equal("static field MyApp.Orders.s_all\n  -> List<Order>._items\n  -> Order[][41]\n  -> Order", read.GroupsOf("MyApp.Order")[0].Example.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Constructor_NullItem_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new HeapSnapshotRecord(1, "app", DateTimeOffset.UnixEpoch, [null!], [], []));
        Assert.Throws<ArgumentNullException>(() => new HeapSnapshotRecord(1, "app", DateTimeOffset.UnixEpoch, [], [null!], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HeapRetentionGroup("T", 0, -1, 0, SampleRecord().RetentionGroups[0].Example));
    }

    [Fact]
    public void Analyze_Records_PathComesFromTheGroupThatRose()
    {
        // Orders held two ways: a cache that stays at 50, and a list that gains 100 a sample. The new ones are the list's.
        var cache = new RetentionPath(RetentionRootKind.StaticField, "static field MyApp.Orders.s_cache", ["Order[][7]"], "Order");
        HeapSnapshotRecord Record(int listed) => new(
            42,
            "myapp",
            DateTimeOffset.UnixEpoch,
            [new HeapTypeSummary("MyApp.Order", 50 + listed, 32L * (50 + listed), 0x7f00)],
            [
                new HeapRetentionGroup("MyApp.Order", 0x7f00, 50, 32 * 50, cache),
                new HeapRetentionGroup("MyApp.Order", 0x7f00, listed, 32L * listed, new RetentionPath(RetentionRootKind.StaticField, "static field MyApp.Orders.s_all", ["List<Order>._items", $"Order[][{listed - 1}]"], "Order")),
            ],
            []);

        HeapGrowthReport report = HeapGrowthAnalyzer.Analyze(
            [new HeapGrowthSample(0, Record(10)), new HeapGrowthSample(10, Record(110)), new HeapGrowthSample(20, Record(210))],
            new HeapGrowthOptions { WorkUnit = "second" });

        HeapTypeGrowth orders = Assert.Single(report.Growing);
        Assert.Equal(HeapGrowthConfidence.Medium, orders.Confidence);
        Assert.Equal("static field MyApp.Orders.s_all\n  -> List<Order>._items\n  -> Order[][209]\n  -> Order", orders.NewInstancePath?.ToString());

        // Rows alone give the verdict without a path.
        HeapGrowthReport rowsOnly = HeapGrowthAnalyzer.Analyze([new HeapGrowthSample(0, Record(10).Types), new HeapGrowthSample(10, Record(110).Types)]);
        Assert.Null(Assert.Single(rowsOnly.Growing).NewInstancePath);
    }

    private static HeapSnapshotRecord SampleRecord()
    {
        var path = new RetentionPath(RetentionRootKind.StaticField, "static field MyApp.Orders.s_all", ["List<Order>._items", "Order[][41]"], "Order");
        return new HeapSnapshotRecord(
            42,
            "myapp",
            new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero),
            [new HeapTypeSummary("MyApp.Order", 42, 1344, 0x7f00), new HeapTypeSummary("System.String", 1000, 40_000, 0x7f10)],
            [new HeapRetentionGroup("MyApp.Order", 0x7f00, 42, 1344, path)],
            ["stack locals: may be missing"]);
    }

    private static string Row(HeapTypeSummary row) => $"{row.TypeName} {row.MethodTable} {row.Count} {row.Bytes}";

    private static string Group(HeapRetentionGroup group) => $"{group.TypeName} {group.MethodTable} {group.Count} {group.Bytes} {group.Example.RootKind} {group.Example}";
}
