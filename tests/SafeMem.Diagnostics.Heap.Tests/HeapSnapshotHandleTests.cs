using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>How the current process finds its own objects in its snapshot: by the weak GC handles it holds to them.</summary>
public sealed class HeapSnapshotHandleTests
{
    private static readonly List<HandleItem> s_held = [];

    [Fact]
    public void GetHandleTargets_FindsEachLiveObject_AndZeroForDeadOrUnknownHandles()
    {
        var handles = new List<GCHandle>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var item = new HandleItem { Value = i };
                s_held.Add(item);
                handles.Add(GCHandle.Alloc(item, GCHandleType.Weak));
            }

            handles.Add(AllocateToDeadObject());
            nint[] values = [.. handles.Select(GCHandle.ToIntPtr), GCHandle.ToIntPtr(handles[0]), 1];

            using HeapSnapshot snapshot = HeapSnapshot.Take(new HeapSnapshotOptions { SummarizeTypes = false });
            IReadOnlyList<ulong> targets = snapshot.GetHandleTargets(values);

            Assert.Equal(values.Length, targets.Count);
            Assert.All(targets.Take(3), address => Assert.NotEqual(0UL, address));
            Assert.Equal(3, targets.Take(3).Distinct().Count());
            Assert.Equal(0UL, targets[3]); // its object died in the snapshot's collection
            Assert.Equal(targets[0], targets[4]); // the same handle twice
            Assert.Equal(0UL, targets[5]); // not a handle
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(snapshot.TryGetHandleTarget(values[i], out ulong one) ? one : 0UL, targets[i]);
            }

            Assert.True(snapshot.DumpBytes > GC.GetTotalMemory(forceFullCollection: false), $"a {snapshot.DumpBytes}-byte dump holds the whole heap");
            Assert.True(snapshot.DumpDuration > TimeSpan.Zero);
            RetentionPath path = Assert.Single(snapshot.FindRetentionPaths([targets[1]], maxPaths: 1));
            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.HeapSnapshotHandleTests.s_held", path.Root);
            Assert.Throws<ArgumentNullException>("handles", () => snapshot.GetHandleTargets(null!));
        }
        finally
        {
            handles.ForEach(h => h.Free());
            s_held.Clear();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static GCHandle AllocateToDeadObject() => GCHandle.Alloc(new HandleItem(), GCHandleType.Weak);

    public sealed class HandleItem
    {
        public int Value { get; set; }
    }
}
