using System.Runtime.CompilerServices;

namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// What the search for several paths to one object costs on a heap whose bulk sits beside the leak (issue 20, item 8:
/// the explanation's CPU time on a ~105 MB heap held by statics): it must not walk the bulk for detours.
/// </summary>
public sealed class RetentionSearchCostTests
{
    private const int Bulk = 200_000;
    private static readonly List<CostLeak> s_leaks = [];
    private static Dictionary<int, CostRecord>? s_records;

    [Fact]
    public void FindRetentionPathsTo_BulkBesideTheLeak_FindsThePathWithoutWalkingTheBulk()
    {
        s_records = Enumerable.Range(0, Bulk).ToDictionary(i => i, i => new CostRecord(i));
        nint handle = Plant();
        try
        {
            using HeapSnapshot snapshot = HeapSnapshot.Take(new HeapSnapshotOptions { SummarizeTypes = false });
            Assert.True(snapshot.TryGetHandleTarget(handle, out ulong target));

            RetentionPath path = Assert.Single(snapshot.FindRetentionPathsTo(target, maxPaths: 3));

            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.RetentionSearchCostTests.s_leaks", path.Root);

            // The dictionary's records are one level below the leak: before, the search for detours reached every
            // one of them and everything they hold (over 2 x Bulk objects).
            Assert.True(snapshot.LastSearchReached < Bulk / 2, $"the search reached {snapshot.LastSearchReached:N0} objects");
        }
        finally
        {
            System.Runtime.InteropServices.GCHandle.FromIntPtr(handle).Free();
            s_leaks.Clear();
            s_records = null;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint Plant()
    {
        var leak = new CostLeak();
        s_leaks.Add(leak);
        return System.Runtime.InteropServices.GCHandle.ToIntPtr(System.Runtime.InteropServices.GCHandle.Alloc(leak, System.Runtime.InteropServices.GCHandleType.Weak));
    }

    public sealed class CostLeak
    {
    }

    public sealed record CostRecord(int Id)
    {
        public string Name { get; } = "record";
    }
}
