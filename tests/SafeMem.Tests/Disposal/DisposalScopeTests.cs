using System.Runtime.CompilerServices;
using SafeMem.Disposal;

namespace SafeMem.Tests.Disposal;

public sealed class DisposalScopeTests
{
    [Fact]
    public void Dispose_DisposesItemsInReverseOrderOfAddition()
    {
        var log = new List<string>();
        var scope = new DisposalScope("order");
        scope.Add(new Probe("a", log));
        scope.Add(() => log.Add("callback"));
        scope.Add(new Probe("b", log));

        scope.Dispose();

        Assert.Equal(["b", "callback", "a"], log);
        Assert.Equal(0, scope.Count);
        Assert.True(scope.IsDisposed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Count_ReadFromInsideAnItemsDisposal_IsZero(bool async)
    {
        // Issue 20.9: the XML docs promise 0 once disposal began; an item's disposal read the old count.
        var scope = new DisposalScope("count-inside");
        var seen = new List<int>();
        scope.Add(new Probe("a", []));
        scope.Add(() => seen.Add(scope.Count));
        scope.Add(() => new ValueTask(Task.Run(() => seen.Add(scope.Count))));
        scope.Add(new Probe("b", []));
        Assert.Equal(4, scope.Count);

        if (async)
        {
            await scope.DisposeAsync();
        }
        else
        {
            scope.Dispose();
        }

        Assert.Equal([0, 0], seen);
        Assert.Equal(0, scope.Count);
        Assert.Contains("0 items", scope.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Add_ReturnsTheItem()
    {
        using var scope = new DisposalScope();
        var probe = new Probe("a", []);

        Probe added = scope.Add(probe);

        Assert.Same(probe, added);
        Assert.Equal(1, scope.Count);
    }

    [Fact]
    public async Task DisposeAsync_AwaitsAsyncItemsAndCallbacksInReverseOrder()
    {
        var log = new List<string>();
        var scope = new DisposalScope("async");
        scope.Add(new AsyncOnlyProbe("async-a", log));
        scope.Add(async () =>
        {
            await Task.Yield();
            log.Add("async-callback");
        });
        scope.Add(new Probe("sync-b", log));
        scope.Add(new BothProbe("both-c", log));

        await scope.DisposeAsync();

        Assert.Equal(["both-c:async", "sync-b", "async-callback", "async-a"], log);
    }

    [Fact]
    public void Dispose_AsyncOnlyItem_IsDisposedAndWaitedFor()
    {
        // The documented choice: synchronous Dispose runs an async-only item and blocks until it completes (no skip).
        var log = new List<string>();
        var scope = new DisposalScope("sync-over-async");
        scope.Add(new AsyncOnlyProbe("async", log));
        scope.Add(async () =>
        {
            await Task.Delay(10);
            log.Add("async-callback");
        });

        scope.Dispose();

        Assert.Equal(["async-callback", "async"], log);
    }

    [Fact]
    public void Dispose_ItemThatPrefersSync_UsesDisposeInSyncPath()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(new BothProbe("both", log));

        scope.Dispose();

        Assert.Equal(["both:sync"], log);
    }

    [Fact]
    public void Dispose_OneItemThrows_OthersStillDisposedAndThatExceptionIsRethrown()
    {
        var log = new List<string>();
        var scope = new DisposalScope("one-throws");
        scope.Add(new Probe("a", log));
        scope.Add(new Probe("b", log, throws: true));
        scope.Add(new Probe("c", log));

        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(scope.Dispose);

        Assert.Equal("b failed", thrown.Message);
        Assert.Contains(nameof(Probe.Dispose), thrown.StackTrace);
        Assert.Equal(["c", "b", "a"], log);
    }

    [Fact]
    public void Dispose_SeveralItemsThrow_AggregateExceptionInDisposalOrder()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(new Probe("a", log, throws: true));
        scope.Add(new Probe("b", log));
        scope.Add(() => throw new ArgumentException("callback failed"));

        AggregateException thrown = Assert.Throws<AggregateException>(scope.Dispose);

        Assert.Equal(2, thrown.InnerExceptions.Count);
        Assert.Equal("callback failed", thrown.InnerExceptions[0].Message);
        Assert.Equal("a failed", thrown.InnerExceptions[1].Message);
        Assert.Equal(["b", "a"], log);
    }

    [Fact]
    public async Task DisposeAsync_SeveralItemsThrow_AggregateExceptionAfterAllRan()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(new AsyncOnlyProbe("a", log, throws: true));
        scope.Add(new Probe("b", log));
        scope.Add(() => throw new ArgumentException("x"));

        AggregateException thrown = await Assert.ThrowsAsync<AggregateException>(async () => await scope.DisposeAsync());

        Assert.Equal(2, thrown.InnerExceptions.Count);
        Assert.Equal(["b", "a"], log);
    }

    [Fact]
    public void Dispose_Twice_DisposesEachItemOnce()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(new Probe("a", log));

        scope.Dispose();
        scope.Dispose();

        Assert.Equal(["a"], log);
    }

    [Fact]
    public void Add_AfterDispose_DisposesAtOnceAndReturnsTheItem()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Dispose();

        var probe = scope.Add(new Probe("late", log));
        scope.Add(() => log.Add("late-callback"));

        Assert.Equal(["late", "late-callback"], log);
        Assert.True(probe.Disposed);
        Assert.Equal(0, scope.Count);
    }

    [Fact]
    public void Add_AfterDisposeOfThrowingItem_ThrowsItsException()
    {
        var scope = new DisposalScope();
        scope.Dispose();

        Assert.Throws<InvalidOperationException>(() => scope.Add(new Probe("late", [], throws: true)));
    }

    [Fact]
    public void Add_FromInsideAnItemsDispose_IsDisposedAtOnce()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(() => scope.Add(new Probe("added-during-dispose", log)));

        scope.Dispose();

        Assert.Equal(["added-during-dispose"], log);
    }

    [Fact]
    public void Dispose_FromInsideAnItemsDispose_ReturnsAtOnceAndEveryItemIsDisposedOnce()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(new Probe("a", log));
        scope.Add(() =>
        {
            scope.Dispose();
            log.Add("reentered");
        });
        scope.Add(new Probe("c", log));

        scope.Dispose();

        Assert.Equal(["c", "reentered", "a"], log);
    }

    [Fact]
    public void Add_SameItemTwice_OwnedOnceAndDisposedOnceAtItsFirstPosition()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        var a = new Probe("a", log);
        scope.Add(a);
        scope.Add(new Probe("b", log));
        scope.Add(a);

        Assert.Equal(2, scope.Count);
        scope.Dispose();

        Assert.Equal(["b", "a"], log);
        Assert.Equal(1, a.DisposeCount);
    }

    [Fact]
    public void Add_SameItemTwiceBeyondTheIndexThreshold_StillOwnedOnce()
    {
        var scope = new DisposalScope();
        var items = Enumerable.Range(0, 40).Select(i => new Probe(i.ToString(System.Globalization.CultureInfo.InvariantCulture), [])).ToList();
        items.ForEach(i => scope.Add(i));
        items.ForEach(i => scope.Add(i));

        Assert.Equal(40, scope.Count);
        Assert.True(scope.Remove(items[20]));
        Assert.Equal(39, scope.Count);
        scope.Add(items[20]);
        scope.Dispose();

        Assert.All(items, i => Assert.Equal(1, i.DisposeCount));
    }

    [Fact]
    public void Add_SameValueTypeItemTwice_ComparedByValue()
    {
        using var cts = new CancellationTokenSource();
        int calls = 0;
        CancellationTokenRegistration registration = cts.Token.Register(() => calls++);
        var scope = new DisposalScope();

        scope.Add(registration);
        scope.Add(registration);

        Assert.Equal(1, scope.Count);
        scope.Dispose();
        cts.Cancel();
        Assert.Equal(0, calls);
    }

    [Fact]
    public void Add_SameCallbackTwice_RunsTwice()
    {
        int runs = 0;
        Action callback = () => runs++;
        var scope = new DisposalScope();
        scope.Add(callback);
        scope.Add(callback);

        scope.Dispose();

        Assert.Equal(2, runs);
    }

    [Fact]
    public void Remove_HandsItemBackUndisposed()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        var a = scope.Add(new Probe("a", log));
        scope.Add(new Probe("b", log));

        Assert.True(scope.Remove(a));
        Assert.False(scope.Remove(a));
        Assert.Equal(1, scope.Count);
        scope.Dispose();

        Assert.Equal(["b"], log);
        Assert.False(a.Disposed);
        Assert.False(scope.Remove(a));
    }

    [Fact]
    public void CreateChild_DisposedWithParentInReverseOrder()
    {
        var log = new List<string>();
        var parent = new DisposalScope("parent");
        parent.Add(new Probe("p1", log));
        DisposalScope child = parent.CreateChild("child");
        child.Add(new Probe("c1", log));
        child.Add(new Probe("c2", log));
        parent.Add(new Probe("p2", log));

        parent.Dispose();

        Assert.Equal(["p2", "c2", "c1", "p1"], log);
        Assert.True(child.IsDisposed);
        Assert.Equal("child", child.Name);
    }

    [Fact]
    public void CreateChild_DisposedEarly_ParentLetsGoOfIt()
    {
        var parent = new DisposalScope("parent");
        DisposalScope child = parent.CreateChild("child");
        Assert.Equal(1, parent.Count);

        child.Dispose();

        Assert.Equal(0, parent.Count);
        parent.Dispose();
    }

    [Fact]
    public void CreateChild_OfDisposedScope_Throws()
    {
        var parent = new DisposalScope();
        parent.Dispose();

        Assert.Throws<ObjectDisposedException>(() => parent.CreateChild("child"));
    }

    [Fact]
    public void BadInput_NullsAndNonDisposables_Throw()
    {
        using var scope = new DisposalScope();

        Assert.Throws<ArgumentNullException>(() => scope.Add<IDisposable>(null!));
        Assert.Throws<ArgumentNullException>(() => scope.Add((Action)null!));
        Assert.Throws<ArgumentNullException>(() => scope.Add((Func<ValueTask>)null!));
        Assert.Throws<ArgumentNullException>(() => scope.Remove(null!));
        Assert.Throws<ArgumentException>(() => scope.Add(new object()));
        Assert.Throws<ArgumentException>(() => scope.Add(42));
        Assert.ThrowsAny<ArgumentException>(() => scope.CreateChild(" "));
        Assert.ThrowsAny<ArgumentException>(() => new DisposalScope(string.Empty));
        Assert.Throws<ArgumentNullException>(() => new DisposalScope((DisposalScopeOptions)null!));
        Assert.Equal(0, scope.Count);
    }

    [Fact]
    public void Add_CallbackOverloads_BindAsCallbacks()
    {
        var log = new List<string>();
        var scope = new DisposalScope();
        scope.Add(() => log.Add("action"));
        scope.Add(() => ValueTask.CompletedTask);
        scope.Add(async () => await Task.Yield());

        scope.Dispose();

        Assert.Equal(["action"], log);
    }

    [Fact]
    public void Dispose_LetsGoOfItems()
    {
        var scope = new DisposalScope();
        WeakReference item = AddUntracked(scope);

        scope.Dispose();

        Infrastructure.GcAssert.Collected(item);
        GC.KeepAlive(scope);
    }

    [Fact]
    public void Undisposed_HoldsItems_Control()
    {
        // The control for Dispose_LetsGoOfItems: an open scope holds its items strongly.
        var scope = new DisposalScope();
        WeakReference item = AddUntracked(scope);

        Infrastructure.GcAssert.Alive(item);
        GC.KeepAlive(scope);
        scope.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddUntracked(DisposalScope scope) => new(scope.Add(new Probe("held", [])));

    internal sealed class Probe(string name, List<string> log, bool throws = false) : IDisposable
    {
        public int DisposeCount { get; private set; }

        public bool Disposed => DisposeCount > 0;

        public void Dispose()
        {
            DisposeCount++;
            lock (log)
            {
                log.Add(name);
            }

            if (throws)
            {
                throw new InvalidOperationException(name + " failed");
            }
        }
    }

    private sealed class AsyncOnlyProbe(string name, List<string> log, bool throws = false) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Task.Delay(5);
            log.Add(name);
            if (throws)
            {
                throw new InvalidOperationException(name + " failed");
            }
        }
    }

    private sealed class BothProbe(string name, List<string> log) : IDisposable, IAsyncDisposable
    {
        public void Dispose() => log.Add(name + ":sync");

        public ValueTask DisposeAsync()
        {
            log.Add(name + ":async");
            return ValueTask.CompletedTask;
        }
    }
}
