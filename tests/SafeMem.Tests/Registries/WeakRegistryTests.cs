using System.Runtime.CompilerServices;
using SafeMem.Registries;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

public sealed class WeakRegistryTests
{
    [Fact]
    public void Add_NewMember_IsContainedAndAddingAgainReturnsFalse()
    {
        var registry = new WeakRegistry<Connection>("t");
        var connection = new Connection(1);

        Assert.True(registry.Add(connection));
        Assert.False(registry.Add(connection));

        Assert.True(registry.Contains(connection));
        Assert.Equal(1, registry.Count);
        Assert.Equal(1, registry.GetStatistics().Additions);
    }

    [Fact]
    public void Contains_EqualButDistinctObject_ReturnsFalse()
    {
        var registry = new WeakRegistry<Connection>("t");
        var connection = new Connection(1);
        var twin = new Connection(1);
        Assert.Equal(connection, twin);
        registry.Add(connection);

        Assert.False(registry.Contains(twin));
        Assert.True(registry.Add(twin));
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void Remove_Member_RemovesItAndCountsOneRemoval()
    {
        var registry = new WeakRegistry<Connection>("t");
        var connection = new Connection(1);
        registry.Add(connection);

        Assert.True(registry.Remove(connection));
        Assert.False(registry.Remove(connection));

        Assert.False(registry.Contains(connection));
        Assert.Equal(new RegistryStatistics { Count = 0, Additions = 1, Removals = 1 }, registry.GetStatistics());
    }

    [Fact]
    public void Clear_LiveMembers_RemovesAllAndCountsEachAsRemoval()
    {
        var registry = new WeakRegistry<Connection>("t");
        Connection[] members = [new(1), new(2), new(3)];
        foreach (Connection member in members)
        {
            registry.Add(member);
        }

        registry.Clear();

        Assert.Empty(registry);
        Assert.Equal(new RegistryStatistics { Count = 0, Additions = 3, Removals = 3 }, registry.GetStatistics());
        Assert.True(registry.Add(members[0]));
    }

    [Fact]
    public void GetEnumerator_LiveMembers_YieldsEachOnce()
    {
        var registry = new WeakRegistry<Connection>("t");
        Connection[] members = [new(1), new(2), new(3)];
        foreach (Connection member in members)
        {
            registry.Add(member);
        }

        Assert.Equal(members.OrderBy(m => m.Id), registry.OrderBy(m => m.Id));
    }

    [Fact]
    public void Add_MemberDropped_IsCollectedAndLeavesCountAndEnumeration()
    {
        var registry = new WeakRegistry<Connection>("t");
        var kept = new Connection(1);
        registry.Add(kept);
        WeakReference dropped = AddDropped(registry);

        GcAssert.Collected(dropped);

        Assert.Equal(1, registry.Count);
        Assert.Same(kept, Assert.Single(registry));
        Assert.Equal(new RegistryStatistics { Count = 1, Additions = 2, Reclamations = 1 }, registry.GetStatistics());
    }

    [Fact]
    public void Control_StaticStyleList_KeepsDroppedMemberAlive()
    {
        var list = new List<Connection>();
        WeakReference dropped = AddDropped(list);

        GcAssert.Alive(dropped);
        Assert.Single(list);
    }

    [Fact]
    public void Members_NullArguments_ThrowArgumentNullException()
    {
        var registry = new WeakRegistry<Connection>("t");

        Assert.Equal("item", Assert.Throws<ArgumentNullException>(() => registry.Add(null!)).ParamName);
        Assert.Equal("item", Assert.Throws<ArgumentNullException>(() => registry.Remove(null!)).ParamName);
        Assert.Equal("item", Assert.Throws<ArgumentNullException>(() => registry.Contains(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new WeakRegistry<Connection>((RegistryOptions)null!)).ParamName);
        Assert.Throws<ArgumentException>(() => new WeakRegistry<Connection>(""));
    }

    [Fact]
    public void GetStatistics_WithMeterFactory_PublishesRegistryInstruments()
    {
        using var factory = new TestMeterFactory();
        var registry = new WeakRegistry<Connection>(new RegistryOptions { Name = "connections", MeterFactory = factory });
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        var kept = new Connection(1);
        var removed = new Connection(2);
        registry.Add(kept);
        registry.Add(removed);
        registry.Remove(removed);
        GcAssert.Collected(AddDropped(registry));

        Assert.Equal(1, recorder.ObserveValue("safemem.registry.entry.count", "connections"));
        Assert.Equal(3, recorder.ObserveValue("safemem.registry.additions", "connections"));
        Assert.Equal(1, recorder.ObserveValue("safemem.registry.removals", "connections"));
        Assert.Equal(1, recorder.ObserveValue("safemem.registry.reclamations", "connections"));
        Assert.Equal("{entry}", recorder.Instruments["safemem.registry.reclamations"].Unit);
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Constructor_Default_HasAGeneratedName()
        => Assert.StartsWith("registry-", new WeakRegistry<Connection>().Name, StringComparison.Ordinal);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddDropped(WeakRegistry<Connection> registry)
    {
        var connection = new Connection(99);
        registry.Add(connection);
        return new WeakReference(connection);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddDropped(List<Connection> list)
    {
        var connection = new Connection(99);
        list.Add(connection);
        return new WeakReference(connection);
    }

    private sealed record Connection(int Id);
}
