using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Disposal;
using SafeMem.Pooling;
using SafeMem.Telemetry;
using SafeMem.Tests.Disposal;
using SafeMem.Tests.Infrastructure;

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
        Assert.Equal(provider.Name + "/SafeMem.Tests.Pooling.PooledThing", pool.Name);
        Assert.Equal(provider.Name + "/SafeMem.Tests.Pooling.PooledThing-2", other.Name);
        pool.Dispose();
        other.Dispose();
    }

    [Fact]
    public void Name_Unnamed_IsAGeneratedObjectPoolsName_ThatNamesTheTrackerAndPrefixesThePools()
    {
        var provider = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { SamplingRate = 1 });

        var pool = (TrackedObjectPool<System.Text.StringBuilder>)provider.CreateStringBuilderPool();

        Assert.Matches("^object-pools-[0-9]+$", provider.Name);
        Assert.Equal(provider.Name, provider.LeakTracker!.Name);
        Assert.Equal(provider.Name + "/System.Text.StringBuilder", pool.Name);
        pool.Dispose();
    }

    [Fact]
    public void Name_Given_NamesTheTrackerAndPrefixesThePools()
    {
        var provider = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { Name = "app", SamplingRate = 1 });

        var pool = (TrackedObjectPool<System.Text.StringBuilder>)provider.CreateStringBuilderPool();

        Assert.Equal("app", provider.Name);
        Assert.Equal("app", provider.LeakTracker!.Name);
        Assert.Equal("app/System.Text.StringBuilder", pool.Name);
        pool.Dispose();
    }

    [Fact]
    public void Create_TwoUnnamedProviders_PoolsOfOneTypeAndTheirTrackers_NeverShareAName()
    {
        // Two hosts in one process, each with AddSafeMemObjectPools(): their StringBuilder pools used to both be
        // "System.Text.StringBuilder", so an exporter merged their figures into one series.
        using var factory = new TestMeterFactory();
        var first = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { SamplingRate = 1, MeterFactory = factory });
        var second = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { SamplingRate = 1, MeterFactory = factory });
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));

        var a = (TrackedObjectPool<System.Text.StringBuilder>)first.CreateStringBuilderPool();
        var b = (TrackedObjectPool<System.Text.StringBuilder>)second.CreateStringBuilderPool();
        a.Return(a.Get());
        b.Return(b.Get());
        b.Return(b.Get());

        Assert.NotEqual(first.Name, second.Name);
        Assert.NotEqual(first.LeakTracker!.Name, second.LeakTracker!.Name);
        Assert.NotEqual(a.Name, b.Name);
        Assert.Equal(1, recorder.ObserveValue("safemem.pool.rentals", a.Name));
        Assert.Equal(2, recorder.ObserveValue("safemem.pool.rentals", b.Name));
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void LeakReport_FromAnUnnamedProvidersPool_NamesTheProviderAndThePool()
    {
        var provider = new TrackedObjectPoolProvider(new TrackedObjectPoolOptions { SamplingRate = 1 });
        using var recorder = new LeakRecorder(provider.LeakTracker!);
        var pool = (TrackedObjectPool<PooledThing>)provider.Create(new ThingPolicy());

        RentAndDrop(pool);
        LeakReport report = Assert.Single(recorder.CollectUntil(1));

        Assert.Equal(provider.Name, report.TrackerName);
        Assert.Equal($"rented from object pool '{provider.Name}/SafeMem.Tests.Pooling.PooledThing' and never returned", report.Details);
        pool.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndDrop(ObjectPool<PooledThing> pool) => pool.Get();

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
