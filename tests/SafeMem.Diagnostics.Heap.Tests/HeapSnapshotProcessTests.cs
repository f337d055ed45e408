namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// Snapshots of another process (a child this test starts, <see cref="TargetProcess"/>), by process id, and of a dump
/// file: rows of reachable objects only, paths with the target's own static fields, and clear failures.
/// </summary>
public sealed class HeapSnapshotProcessTests
{
    private const string ItemName = "SafeMem.Diagnostics.Heap.Tests.TargetProcess.TargetItem";
    private const string GarbageName = "SafeMem.Diagnostics.Heap.Tests.TargetProcess.TargetGarbage";

    [Fact]
    public void TakeFromProcess_AnotherProcess_CountsItsReachableObjectsAndFindsTheirPaths()
    {
        using TargetProcess target = TargetProcess.Start();

        using HeapSnapshot snapshot = HeapSnapshot.TakeFromProcess(target.Id);

        Assert.Equal(target.Id, snapshot.ProcessId);
        Assert.False(snapshot.IsCurrentProcess);
        HeapTypeSummary items = Assert.IsType<HeapTypeSummary>(snapshot.Find(ItemName));
        Assert.Equal(TargetProcess.Kept, items.Count);
        Assert.Null(items.Type);
        Assert.NotEqual(0UL, items.MethodTable);

        // The dropped objects are on the target's heap (no collection ran after them) but no root reaches them: the
        // rows, which count reachable objects, leave them out.
        Assert.Equal(TargetProcess.Dropped, snapshot.Count(o => o.TypeName == GarbageName));
        Assert.Null(snapshot.Find(GarbageName));

        RetentionPath path = Assert.Single(snapshot.FindRetentionPaths(o => o.TypeName == ItemName, maxPaths: 1));
        Assert.Equal(RetentionRootKind.StaticField, path.RootKind);
        Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.TargetProcess.s_items", path.Root);
        Assert.Equal("TargetProcess.TargetItem", path.Target);
    }

    [Fact]
    public void GroupRetentionPaths_ObjectsOfOneList_AreOneGroup()
    {
        using TargetProcess target = TargetProcess.Start();
        using HeapSnapshot snapshot = HeapSnapshot.TakeFromProcess(target.Id, new HeapSnapshotOptions { SummarizeTypes = false });

        IReadOnlyList<HeapObject> items = snapshot.FindObjects(o => o.TypeName == ItemName);
        RetentionPathGroup group = Assert.Single(snapshot.GroupRetentionPaths(items.Select(o => o.Address)));

        Assert.Equal(TargetProcess.Kept, group.Count);
        Assert.Equal(items.Select(o => o.Address).Order(), group.Objects.Order());
        Assert.Contains("TargetProcess.TargetItem[][]", group.Signature, StringComparison.Ordinal);
        Assert.DoesNotContain("[0]", group.Signature, StringComparison.Ordinal);
        Assert.StartsWith("static field SafeMem.Diagnostics.Heap.Tests.TargetProcess.s_items", group.Example.Root, StringComparison.Ordinal);
    }

    [Fact]
    public void Take_ProcessDumpsItself_StandardOutputKeepsItsOwnLinesWithoutCreatedumpsStatus()
    {
        string output = TargetProcess.RunToEnd(TargetProcess.SelfSnapshotArgument);

        Assert.Contains("before the snapshot\n", output, StringComparison.Ordinal);
        Assert.Contains(" types\nafter the snapshot\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[createdump]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void TakeFromProcess_NoSuchProcess_ThrowsUnavailableWithTheReason()
    {
        // Process ids on Linux stay below 2^22; this one is never in use.
        HeapSnapshotUnavailableException failure = Assert.Throws<HeapSnapshotUnavailableException>(() => HeapSnapshot.TakeFromProcess(int.MaxValue - 7));

        Assert.Contains("no process with id", failure.Reason, StringComparison.Ordinal);
        Assert.StartsWith("A heap snapshot is unavailable: ", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Members_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>("processId", () => HeapSnapshot.TakeFromProcess(0));
        Assert.Throws<ArgumentOutOfRangeException>("processId", () => HeapSnapshot.TakeFromProcess(-1));
        Assert.Throws<ArgumentException>("dumpPath", () => HeapSnapshot.OpenDump(" "));
        Assert.Throws<ArgumentNullException>("dumpPath", () => HeapSnapshot.OpenDump(null!));
        Assert.Throws<ArgumentException>("value", () => new HeapSnapshotOptions { DumpDirectory = "" });
    }

    [Fact]
    public void OpenDump_NotADump_ThrowsUnavailable()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a dump");

            HeapSnapshotUnavailableException failure = Assert.Throws<HeapSnapshotUnavailableException>(() => HeapSnapshot.OpenDump(path));

            Assert.Contains(path, failure.Reason, StringComparison.Ordinal);
            Assert.True(File.Exists(path), "a dump file given to OpenDump is only read");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
