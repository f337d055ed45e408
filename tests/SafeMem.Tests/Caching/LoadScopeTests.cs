using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public sealed class LoadScopeTests
{
    [Fact]
    public void Enter_MarksLoadActiveUntilExit()
    {
        var load = new object();
        Assert.False(LoadScope.IsActive(load));

        LoadScope.Frame? previous = LoadScope.Enter(load);
        Assert.True(LoadScope.IsActive(load));
        Assert.False(LoadScope.IsActive(new object()));

        LoadScope.Exit(previous);
        Assert.False(LoadScope.IsActive(load));
    }

    [Fact]
    public async Task Enter_FlowsIntoAwaitsButNotToOtherFlows()
    {
        var load = new object();
        LoadScope.Frame? previous = LoadScope.Enter(load);
        Task<bool> inside = InsideAsync(load);
        LoadScope.Exit(previous);

        Assert.True(await inside);
        Assert.False(await Task.Run(() => LoadScope.IsActive(load)));
    }

    private static async Task<bool> InsideAsync(object load)
    {
        await Task.Yield();
        return LoadScope.IsActive(load);
    }
}
