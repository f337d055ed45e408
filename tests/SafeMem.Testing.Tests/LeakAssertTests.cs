using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SafeMem.Diagnostics.Heap;
using Xunit.Abstractions;

namespace SafeMem.Testing.Tests;

/// <summary>
/// Plants each classic leak, asserts that <see cref="LeakAssert"/> fails with the path that retains the object, then
/// removes the leak. Every planted leak is undone in a <c>finally</c>, so a failing test leaves nothing behind.
/// </summary>
public sealed class LeakAssertTests(ITestOutputHelper output)
{
    private static readonly List<Widget> s_widgets = [];
    private static readonly ConditionalWeakTable<TableKey, TableValue> s_table = [];
    private static TaskCompletionSource s_never = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static object? s_resurrected;

    private static event EventHandler? Changed;

    [Fact]
    public void Collected_UnreferencedObject_Passes()
    {
        LeakAssert.Collected(() => new Widget());
    }

    [Fact]
    public void Collected_ObjectInStaticList_FailsWithStaticFieldPathAndDeletesTheDump()
    {
        string directory = Directory.CreateTempSubdirectory("safemem-leak-").FullName;
        try
        {
            var options = new LeakAssertOptions { DumpDirectory = directory };

            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(
                () =>
                {
                    var widget = new Widget();
                    s_widgets.Add(widget);
                    return widget;
                },
                options));

            Assert.Equal("SafeMem.Testing.Tests.Widget", failure.TypeName);
            Assert.StartsWith("SafeMem.Testing.Tests.Widget is still alive after 8 full garbage collections.", failure.Message);
            RetentionPath path = Assert.Single(failure.RetentionPaths);
            Assert.Equal(RetentionRootKind.StaticField, path.RootKind);
            Assert.Equal("static field SafeMem.Testing.Tests.LeakAssertTests.s_widgets", path.Root);
            Assert.Equal(["List<Widget>._items", "Widget[][0]"], path.Hops);
            Assert.Equal("Widget", path.Target);
            Assert.Contains(path.ToString().Replace("\n", "\n  ", StringComparison.Ordinal), failure.Message);
            Assert.Null(failure.PathUnavailableReason);
            Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
        }
        finally
        {
            s_widgets.Clear();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Collected_SubscriberOfStaticEvent_FailsWithEventAndHandlerInPath()
    {
        var subscriber = new Subscriber();
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(() => Subscribe()));

            RetentionPath path = Assert.Single(failure.RetentionPaths);
            Assert.Equal("static field SafeMem.Testing.Tests.LeakAssertTests.Changed (event)", path.Root);
            Assert.Equal(["EventHandler._target (handler Subscriber.OnChanged)"], path.Hops);
            Assert.Equal("Subscriber", path.Target);
        }
        finally
        {
            Changed = null;
        }

        // The event is raised once, so the planted subscription is observable behaviour, not dead code.
        Changed += subscriber.OnChanged;
        Changed?.Invoke(null, EventArgs.Empty);
        Changed = null;
        Assert.Equal(1, subscriber.Calls);
    }

    [Fact]
    public void Collected_StateCapturedByTimerCallback_FailsWithTimerQueueAndClosureInPath()
    {
        Timer? timer = null;
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(() => StartTimer(out timer)));

            RetentionPath path = Assert.Single(failure.RetentionPaths);
            Assert.Equal(RetentionRootKind.StaticField, path.RootKind);
            Assert.Contains("TimerQueue", path.Root);
            Assert.Contains(path.Hops, hop => hop.StartsWith("TimerQueueTimer.", StringComparison.Ordinal));
            Assert.Contains("TimerCallback._target (handler lambda in LeakAssertTests.StartTimer)", path.Hops);
            Assert.Equal("(closure in LeakAssertTests.StartTimer).state", path.Hops[^1]);
            Assert.Equal("TimerState", path.Target);
        }
        finally
        {
            timer?.Dispose();
        }
    }

    [Fact]
    public void Collected_ObjectHeldByStrongGCHandle_FailsWithHandleRoot()
    {
        GCHandle handle = default;
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(() =>
            {
                var target = new HandleTarget();
                handle = GCHandle.Alloc(target);
                return target;
            }));

            RetentionPath path = Assert.Single(failure.RetentionPaths);
            Assert.Equal(RetentionRootKind.GCHandle, path.RootKind);
            Assert.Equal("GC handle (Strong)", path.Root);
            Assert.Empty(path.Hops);
            Assert.Equal("HandleTarget", path.Target);
        }
        finally
        {
            handle.Free();
        }
    }

    [Fact]
    public void Collected_LocalOfSuspendedAsyncMethod_FailsWithAsyncMethodInPath()
    {
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(() =>
            {
                var payload = new AsyncPayload();
                _ = AwaitForeverAsync(payload);
                return payload;
            }));

            RetentionPath path = Assert.Single(failure.RetentionPaths);
            Assert.Equal("static field SafeMem.Testing.Tests.LeakAssertTests.s_never", path.Root);
            Assert.Equal("(task of async LeakAssertTests.AwaitForeverAsync).payload", path.Hops[^1]);
            Assert.Contains(path.Hops, hop => hop.Contains("(handler async LeakAssertTests.AwaitForeverAsync)", StringComparison.Ordinal));
            Assert.Equal("AsyncPayload", path.Target);
        }
        finally
        {
            s_never.TrySetResult();
            s_never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    [Fact]
    public void Collected_LocalOfBlockedThread_FailsWithStackRootOrSaysStacksMayBeIncomplete()
    {
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        Thread? thread = null;
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(() =>
            {
                var held = new HandleTarget();
                thread = new Thread(() => HoldUntil(held, started, release)) { IsBackground = true, Name = "holder" };
                thread.Start();
                started.Wait();
                return held;
            }));

            output.WriteLine(failure.Message);

            // ClrMD reports stack roots of Linux dumps where its stack walk can: either the local is named with its
            // method, or the message says that no inspected root reaches the object and why.
            if (failure.RetentionPaths.Count > 0)
            {
                Assert.Equal(RetentionRootKind.StackLocal, failure.RetentionPaths[0].RootKind);
                Assert.Matches("^local variable in (lambda in LeakAssertTests.Collected_LocalOfBlockedThread|LeakAssertTests.HoldUntil).* \\(thread [0-9]+\\)$", failure.RetentionPaths[0].Root);
                Assert.Equal("HandleTarget", failure.RetentionPaths[0].Target);
            }
            else
            {
                Assert.Contains("No path from the roots ClrMD could inspect reaches it", failure.Message);
            }
        }
        finally
        {
            release.Set();
            thread?.Join();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void HoldUntil(HandleTarget held, ManualResetEventSlim started, ManualResetEventSlim release)
    {
        started.Set();
        release.Wait();
        GC.KeepAlive(held);
    }

    [Fact]
    public void Collected_UnrootedCycle_Passes()
    {
        LeakAssert.Collected(() =>
        {
            var first = new CycleNode();
            first.Next = new CycleNode { Next = first };
            return first;
        });
    }

    [Fact]
    public void Collected_ConditionalWeakTableValueReferringToItsKey_Passes()
    {
        LeakAssert.Collected(() =>
        {
            var key = new TableKey();
            s_table.Add(key, new TableValue(key));
            return key;
        });
    }

    [Fact]
    public void Collected_ObjectResurrectedByItsFinalizer_FailsBecauseItIsAlive()
    {
        // A short weak reference reports this object dead once its finalizer is queued, though the finalizer brings
        // it back; the assertion must not report "collected" for it.
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(
                () => new Phoenix(),
                new LeakAssertOptions { ExplainFailures = false }));

            Assert.NotNull(s_resurrected);
            Assert.Contains("ExplainFailures", failure.PathUnavailableReason);
        }
        finally
        {
            s_resurrected = null;
        }
    }

    [Fact]
    public void Collected_DumpImpossible_StillFailsAndSaysWhyThePathIsUnavailable()
    {
        string missing = Path.Combine(Path.GetTempPath(), "safemem-missing-" + Guid.NewGuid().ToString("N"));
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(
                () =>
                {
                    var widget = new Widget();
                    s_widgets.Add(widget);
                    return widget;
                },
                new LeakAssertOptions { DumpDirectory = missing, MaxCollections = 2 }));

            Assert.Contains("is still alive after 2 full garbage collections", failure.Message);
            Assert.Contains("The retention path is unavailable: the dump directory", failure.Message);
            Assert.Contains("does not exist", failure.PathUnavailableReason);
            Assert.Empty(failure.RetentionPaths);
        }
        finally
        {
            s_widgets.Clear();
        }
    }

    [Fact]
    public void Collected_WeakReferenceToHeldObject_FailsWithPath()
    {
        WeakReference reference = AddToStaticList();
        try
        {
            LeakException failure = Assert.Throws<LeakException>(() => LeakAssert.Collected(reference, new LeakAssertOptions { ExplainFailures = false }));

            Assert.StartsWith("SafeMem.Testing.Tests.Widget is still alive", failure.Message);
        }
        finally
        {
            s_widgets.Clear();
        }

        LeakAssert.Collected(reference);
    }

    [Fact]
    public void Collected_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("create", () => LeakAssert.Collected((Func<object>)null!));
        Assert.Throws<ArgumentNullException>("reference", () => LeakAssert.Collected((WeakReference)null!));
        Assert.Throws<ArgumentNullException>("action", () => LeakAssert.Collected<Widget>(null!));
        Assert.Throws<ArgumentNullException>("action", () => LeakAssert.Collected(null!, _ => true));
        Assert.Throws<ArgumentNullException>("predicate", () => LeakAssert.Collected(() => { }, null!));
    }

    [Fact]
    public void Collected_CreateReturnsNull_ThrowsArgumentException()
    {
        ArgumentException error = Assert.Throws<ArgumentException>("create", () => LeakAssert.Collected(() => null!));

        Assert.Contains("returned null", error.Message);
    }

    [Fact]
    public void Collected_CreateReturnsBoxedValue_ThrowsArgumentException()
    {
        ArgumentException error = Assert.Throws<ArgumentException>("create", () => LeakAssert.Collected(() => 42));

        Assert.Contains("boxed Int32", error.Message);
    }

    [Fact]
    public void Collected_CreateReturnsInternedString_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>("create", () => LeakAssert.Collected(() => "a literal"));
        Assert.Throws<ArgumentException>("create", () => LeakAssert.Collected(() => string.Intern(new string('x', 17))));

        // A string built at run time and not interned is an ordinary object.
        LeakAssert.Collected(() => new string('y', 19));
    }

    [Fact]
    public void Collected_CreateReturnsFrozenObject_ThrowsArgumentException()
    {
        ArgumentException error = Assert.Throws<ArgumentException>("create", () => LeakAssert.Collected(() => typeof(Widget)));

        Assert.Contains("frozen heap", error.Message);
    }

    [Fact]
    public void Collected_CreateThrows_PropagatesTheException()
    {
        var thrown = new InvalidOperationException("factory failed");

        InvalidOperationException caught = Assert.Throws<InvalidOperationException>(() => LeakAssert.Collected(() => throw thrown));

        Assert.Same(thrown, caught);
    }

    [Fact]
    public void Collected_ParallelAssertions_EachDecidesItsOwnObject()
    {
        // Two passing and two failing assertions at once: dumps are serialized, decisions stay per object.
        var failures = new LeakException?[4];
        var options = new LeakAssertOptions { ExplainFailures = false, MaxCollections = 3 };
        Parallel.For(0, 4, i =>
        {
            try
            {
                LeakAssert.Collected(() => i % 2 == 0 ? new Gadget() : AddGadgetToStaticList(), options);
            }
            catch (LeakException failure)
            {
                failures[i] = failure;
            }
        });

        s_gadgets.Clear();
        Assert.Null(failures[0]);
        Assert.NotNull(failures[1]);
        Assert.Null(failures[2]);
        Assert.NotNull(failures[3]);
    }

    private static readonly List<Gadget> s_gadgets = [];

    private static Gadget AddGadgetToStaticList()
    {
        var gadget = new Gadget();
        lock (s_gadgets)
        {
            s_gadgets.Add(gadget);
        }

        return gadget;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddToStaticList()
    {
        var widget = new Widget();
        s_widgets.Add(widget);
        return new WeakReference(widget);
    }

    private static Subscriber Subscribe()
    {
        var subscriber = new Subscriber();
        Changed += subscriber.OnChanged;
        return subscriber;
    }

    private static TimerState StartTimer(out Timer? timer)
    {
        var state = new TimerState();
        Timer? started = null;

        // The classic leak: the callback captures the timer (to re-arm it), so the timer queue reaches the timer
        // object, which is therefore never finalized, and the timer never stops.
        started = new Timer(_ => { state.Ticks++; started!.Change(3_600_000, Timeout.Infinite); }, null, 3_600_000, Timeout.Infinite);
        timer = started;
        return state;
    }

    private static async Task AwaitForeverAsync(AsyncPayload payload)
    {
        await s_never.Task;
        payload.Value++;
    }

    private sealed class Phoenix
    {
        ~Phoenix() => s_resurrected = this;
    }
}
