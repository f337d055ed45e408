using Microsoft.Extensions.ObjectPool;
using SafeMem.Pooling;
using SafeMem.Tests.Disposal;

namespace SafeMem.Tests.Pooling;

public sealed class TrackedObjectPoolProviderTests
{
    [Fact]
    public void Create_GivesTrackedPoolsNamedAfterTheirType()
    {
        var provider = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { Name = "app", MaximumRetained = 3 });

        var first = Assert.IsType<TrackedObjectPool<PooledThing>>(provider.Create(new ThingPolicy()));
        var second = Assert.IsType<TrackedObjectPool<PooledThing>>(provider.Create(new ThingPolicy()));
        var builders = Assert.IsType<TrackedObjectPool<System.Text.StringBuilder>>(provider.CreateStringBuilderPool());

        Assert.Equal("app/SafeMem.Tests.Pooling.PooledThing", first.Name);
        Assert.Equal("app/SafeMem.Tests.Pooling.PooledThing-2", second.Name);
        Assert.Equal("app/System.Text.StringBuilder", builders.Name);
        Assert.Null(provider.LeakTracker);
        first.Dispose();
        second.Dispose();
        builders.Dispose();
    }

    [Fact]
    public void Create_WithSampling_PoolsShareTheProvidersTracker()
    {
        var provider = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { SamplingRate = 1 });
        using var recorder = new LeakRecorder(provider.LeakTracker!);

        var pool = (TrackedObjectPool<PooledThing>)provider.Create(new ThingPolicy());
        var other = (TrackedObjectPool<PooledThing>)provider.Create(new ThingPolicy());

        Assert.Same(provider.LeakTracker, pool.LeakTracker);
        Assert.Same(provider.LeakTracker, other.LeakTracker);
        Assert.Equal("SafeMem.Tests.Pooling.PooledThing", pool.Name);
        pool.Dispose();
        other.Dispose();
    }

    [Fact]
    public void Create_DefaultPolicyOverload_Works()
    {
        var provider = new TrackedObjectPoolProvider();

        ObjectPool<PooledThing> pool = provider.Create<PooledThing>();
        PooledThing thing = pool.Get();
        pool.Return(thing);

        Assert.Same(thing, pool.Get());
        Assert.Throws<ArgumentNullException>(() => provider.Create<PooledThing>(null!));
        Assert.Throws<ArgumentNullException>(() => new TrackedObjectPoolProvider(null!));
    }

    [Fact]
    public void OptionsChangedAfterConstruction_DoNotAffectTheProvider()
    {
        var options = new TrackedObjectPoolOptions { Name = "before" };
        var provider = new TrackedObjectPoolProvider(options);
        options.Name = "after";

        var pool = (TrackedObjectPool<PooledThing>)provider.Create(new ThingPolicy());

        Assert.StartsWith("before/", pool.Name, StringComparison.Ordinal);
        pool.Dispose();
    }
}
