using System.Runtime.CompilerServices;

namespace SafeMem.Diagnostics.Heap.Tests;

/// <summary>
/// Roots that used to lose their names (issue 20): a [ThreadStatic] of another live thread, a static of a closed
/// generic type, a static of struct type, a field inside an array of structs. Each plants one object of its own type and
/// checks the path a snapshot gives it.
/// </summary>
public sealed class RetentionRootTests
{
    [ThreadStatic]
    private static ThreadStaticHeld? t_held;

    private static SlotHolder s_slot;
    private static readonly SlotHolder[] s_slots = new SlotHolder[4];

    [Fact]
    public void FindRetentionPaths_ThreadStaticOfAnotherLiveThread_NamesTheFieldAndTheThread()
    {
        using var planted = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int threadId = 0;
        var thread = new Thread(() =>
        {
            Plant();
            threadId = Environment.CurrentManagedThreadId;
            planted.Set();
            release.Wait();
            t_held = null;
        });
        thread.Start();
        try
        {
            planted.Wait();
            using HeapSnapshot snapshot = HeapSnapshot.Take();

            IReadOnlyList<RetentionPath> paths = snapshot.FindRetentionPaths(o => o.Type == typeof(ThreadStaticHeld), maxPaths: 1);
            if (Environment.Version.Major < 9)
            {
                // The documented limit on .NET 8: thread statics are not read, and the notes say so.
                Assert.Contains(snapshot.InspectionNotes, note => note.StartsWith("[ThreadStatic] fields: not read on .NET 8", StringComparison.Ordinal));
                return;
            }

            RetentionPath path = Assert.Single(paths);
            Assert.Equal(RetentionRootKind.StaticField, path.RootKind);
            Assert.Equal($"thread-static field SafeMem.Diagnostics.Heap.Tests.RetentionRootTests.t_held (thread {threadId})", path.Root);
            Assert.Empty(path.Hops);
        }
        finally
        {
            release.Set();
            thread.Join();
        }
    }

    // Not inlined: the object must be held by the thread-static alone, not by a register or stack slot of the thread.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Plant() => t_held = new ThreadStaticHeld();

    [Fact]
    public void FindRetentionPaths_StaticOfClosedGenericType_NamesTheInstantiation()
    {
        GenericHolder<GenericHeld>.Item = new GenericHeld();
        try
        {
            using HeapSnapshot snapshot = HeapSnapshot.Take();

            RetentionPath path = Assert.Single(snapshot.FindRetentionPaths(o => o.Type == typeof(GenericHeld), maxPaths: 1));
            if (Environment.Version.Major < 9)
            {
                // The documented limit on .NET 8: its statics of generic instantiations are not found, the slot shows.
                Assert.Equal(RetentionRootKind.GCHandle, path.RootKind);
                return;
            }

            Assert.Equal(RetentionRootKind.StaticField, path.RootKind);
            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.GenericHolder<RetentionRootTests.GenericHeld>.Item", path.Root);
            Assert.Empty(path.Hops);
        }
        finally
        {
            GenericHolder<GenericHeld>.Item = null;
        }
    }

    [Fact]
    public void FindRetentionPaths_StaticFieldOfStructType_NamesTheFieldAndTheStructField()
    {
        s_slot = new SlotHolder { Value = new StructHeld() };
        try
        {
            using HeapSnapshot snapshot = HeapSnapshot.Take();

            RetentionPath path = Assert.Single(snapshot.FindRetentionPaths(o => o.Type == typeof(StructHeld), maxPaths: 1));

            Assert.Equal(RetentionRootKind.StaticField, path.RootKind);
            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.RetentionRootTests.s_slot.Value", path.Root);
            Assert.Empty(path.Hops);
        }
        finally
        {
            s_slot = default;
        }
    }

    [Fact]
    public void FindRetentionPaths_FieldInsideAnArrayOfStructs_NamesIndexAndField()
    {
        s_slots[2] = new SlotHolder { Value = new ArrayStructHeld() };
        try
        {
            using HeapSnapshot snapshot = HeapSnapshot.Take();

            RetentionPath path = Assert.Single(snapshot.FindRetentionPaths(o => o.Type == typeof(ArrayStructHeld), maxPaths: 1));

            Assert.Equal("static field SafeMem.Diagnostics.Heap.Tests.RetentionRootTests.s_slots", path.Root);
            Assert.Equal(["RetentionRootTests.SlotHolder[][2].Value"], path.Hops);
        }
        finally
        {
            s_slots[2] = default;
        }
    }

    public struct SlotHolder
    {
        public long Stamp;
        public object? Value;
    }

    public sealed class ThreadStaticHeld
    {
    }

    public sealed class GenericHeld
    {
    }

    public sealed class StructHeld
    {
    }

    public sealed class ArrayStructHeld
    {
    }
}

public static class GenericHolder<T>
{
    public static T? Item { get; set; }
}
