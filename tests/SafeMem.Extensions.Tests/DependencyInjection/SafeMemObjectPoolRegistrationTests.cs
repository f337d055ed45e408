using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Pooling;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Tests.DependencyInjection;

public sealed class SafeMemObjectPoolRegistrationTests
{
    [Fact]
    public void AddSafeMemObjectPools_ReplacesAnEarlierDefaultProvider()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ObjectPoolProvider, DefaultObjectPoolProvider>();

        services.AddSafeMemObjectPools();

        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.IsType<TrackedObjectPoolProvider>(provider.GetRequiredService<ObjectPoolProvider>());
        Assert.Single(services, d => d.ServiceType == typeof(ObjectPoolProvider));
    }

    [Fact]
    public void AddSafeMemObjectPools_ResolvedAsBothServiceTypes_IsOneSingleton()
    {
        var services = new ServiceCollection();
        services.AddSafeMemObjectPools();

        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<TrackedObjectPoolProvider>(), provider.GetRequiredService<ObjectPoolProvider>());
    }

    [Fact]
    public void AddSafeMemObjectPools_ConfiguresThePools()
    {
        var services = new ServiceCollection();
        services.AddSafeMemObjectPools(options =>
        {
            options.Name = "app";
            options.SamplingRate = 1;
            options.MaximumRetained = 1;
        });

        using ServiceProvider provider = services.BuildServiceProvider();
        var pools = provider.GetRequiredService<ObjectPoolProvider>();
        var pool = Assert.IsType<TrackedObjectPool<System.Text.StringBuilder>>(pools.CreateStringBuilderPool());

        Assert.Equal("app/System.Text.StringBuilder", pool.Name);
        Assert.NotNull(pool.LeakTracker);
        Assert.Same(provider.GetRequiredService<TrackedObjectPoolProvider>().LeakTracker, pool.LeakTracker);
        System.Text.StringBuilder builder = pool.Get();
        pool.Return(builder);
        Assert.Throws<InvalidOperationException>(() => pool.Return(builder));
        pool.Dispose();
    }

    [Fact]
    public void AddSafeMemObjectPools_Unnamed_TheTrackerAndThePoolsCarryAnObjectPoolsName_DistinctPerContainer()
    {
        // Two hosts in one process: the tracker used to be "tracker-1" and both hosts' pools "System.Text.StringBuilder".
        using ServiceProvider first = new ServiceCollection().AddSafeMemObjectPools(options => options.SamplingRate = 1).BuildServiceProvider();
        using ServiceProvider second = new ServiceCollection().AddSafeMemObjectPools(options => options.SamplingRate = 1).BuildServiceProvider();
        TrackedObjectPoolProvider[] providers = [first.GetRequiredService<TrackedObjectPoolProvider>(), second.GetRequiredService<TrackedObjectPoolProvider>()];
        var pools = providers.Select(p => Assert.IsType<TrackedObjectPool<System.Text.StringBuilder>>(p.CreateStringBuilderPool())).ToList();

        for (int i = 0; i < 2; i++)
        {
            Assert.Matches("^object-pools-[0-9]+$", providers[i].Name);
            Assert.Equal(providers[i].Name, providers[i].LeakTracker!.Name);
            Assert.Equal(providers[i].Name + "/System.Text.StringBuilder", pools[i].Name);
        }

        Assert.NotEqual(providers[0].Name, providers[1].Name);
        Assert.NotEqual(pools[0].Name, pools[1].Name);
        pools.ForEach(p => p.Dispose());
    }

    [Fact]
    public void AddSafeMemObjectPools_UsesTheContainersMeterFactory()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSafeMemObjectPools(options => options.Name = "di");

        using ServiceProvider provider = services.BuildServiceProvider();
        Meter meter = SafeMemMeter.Resolve(provider.GetRequiredService<IMeterFactory>());
        using var recorder = new MetricRecorder(meter);
        ObjectPool<System.Text.StringBuilder> pool = provider.GetRequiredService<ObjectPoolProvider>().CreateStringBuilderPool();
        pool.Return(pool.Get());

        Assert.Equal(1, recorder.ObserveValue("safemem.pool.rentals", "di/System.Text.StringBuilder"));
        ((IDisposable)pool).Dispose();
    }

    [Fact]
    public void AddSafeMemObjectPools_NullServices_Throws()
        => Assert.Throws<ArgumentNullException>(() => SafeMemServiceCollectionExtensions.AddSafeMemObjectPools(null!));
}
