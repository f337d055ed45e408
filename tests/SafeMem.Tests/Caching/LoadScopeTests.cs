using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public sealed class LoadScopeTests
{
    [Fact]
    public void Enter_MarksLoadActiveUntilExit()
    {
        var load = new TestLoad();
        Assert.False(LoadScope.IsActive(load));

        LoadScope.Frame? previous = LoadScope.Enter(load);
        Assert.True(LoadScope.IsActive(load));
        Assert.False(LoadScope.IsActive(new TestLoad()));

        LoadScope.Exit(previous);
        Assert.False(LoadScope.IsActive(load));
    }

    [Fact]
    public async Task Enter_FlowsIntoAwaitsButNotToOtherFlows()
    {
        var load = new TestLoad();
        LoadScope.Frame? previous = LoadScope.Enter(load);
        Task<bool> inside = InsideAsync(load);
        LoadScope.Exit(previous);

        Assert.True(await inside);
        Assert.False(await Task.Run(() => LoadScope.IsActive(load)));
    }

    [Fact]
    public void BeginWait_OutsideEveryFactory_MarksNothing()
    {
        var target = new TestLoad();

        using (LoadScope.BeginWait(target, "k"))
        {
            Assert.Null(target.WaitingOn);
        }
    }

    [Fact]
    public void BeginWait_InsideNestedFactories_MarksEveryOwnLoadUntilDisposed()
    {
        TestLoad outer = new(), inner = new(), target = new();
        LoadScope.Frame? first = LoadScope.Enter(outer);
        LoadScope.Frame? second = LoadScope.Enter(inner);

        LoadScope.Wait wait = LoadScope.BeginWait(target, "k");
        Assert.Same(target, outer.WaitingOn);
        Assert.Same(target, inner.WaitingOn);

        wait.Dispose();
        Assert.Null(outer.WaitingOn);
        Assert.Null(inner.WaitingOn);
        LoadScope.Exit(second);
        LoadScope.Exit(first);
    }

    [Fact]
    public void BeginWait_TargetsChainLeadsBackToAnOwnLoad_ThrowsAndLeavesNoMark()
    {
        // This flow runs a; b waits for c, and c waits for a: waiting for b would close the cycle a -> b -> c -> a.
        TestLoad a = new(), b = new(), c = new();
        b.WaitingOn = c;
        c.WaitingOn = a;
        LoadScope.Frame? previous = LoadScope.Enter(a);

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => LoadScope.BeginWait(b, "key-b"));

        Assert.Contains("cycle", ex.Message, StringComparison.Ordinal);
        Assert.Contains("key-b", ex.Message, StringComparison.Ordinal);
        Assert.Null(a.WaitingOn);
        LoadScope.Exit(previous);
    }

    [Fact]
    public void BeginWait_ChainEndsElsewhere_DoesNotThrow()
    {
        TestLoad a = new(), b = new(), c = new();
        b.WaitingOn = c;
        LoadScope.Frame? previous = LoadScope.Enter(a);

        using (LoadScope.BeginWait(b, "k"))
        {
            Assert.Same(b, a.WaitingOn);
        }

        Assert.Same(c, b.WaitingOn);
        LoadScope.Exit(previous);
    }

    private static async Task<bool> InsideAsync(CacheLoad load)
    {
        await Task.Yield();
        return LoadScope.IsActive(load);
    }

    private sealed class TestLoad : CacheLoad;
}
