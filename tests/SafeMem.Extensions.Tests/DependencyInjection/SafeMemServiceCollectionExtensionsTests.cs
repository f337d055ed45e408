using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Caching;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Tests.DependencyInjection;

public sealed class SafeMemServiceCollectionExtensionsTests
{
    [Fact]
    public void AddSafeMemCache_AfterAddMemoryCache_ReplacesTheMemoryCacheRegistration()
    {
        var services = new ServiceCollection();
        services.AddMemoryCache();

        services.AddSafeMemCache(options => options.MaximumCount = 10);

        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.IsType<BoundedMemoryCache>(provider.GetRequiredService<IMemoryCache>());
        Assert.Single(services, d => d.ServiceType == typeof(IMemoryCache));
    }

    [Fact]
    public void AddSafeMemCache_BeforeAddMemoryCache_StaysTheMemoryCache()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.MaximumCount = 10);

        services.AddMemoryCache();

        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.IsType<BoundedMemoryCache>(provider.GetRequiredService<IMemoryCache>());
    }

    [Fact]
    public void AddSafeMemCache_Resolved_IsOneSingletonForBothServiceTypes()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options =>
        {
            options.Name = "app-cache";
            options.MaximumWeight = 1_000;
        });

        using ServiceProvider provider = services.BuildServiceProvider();
        IMemoryCache cache = provider.GetRequiredService<IMemoryCache>();

        Assert.Same(cache, provider.GetRequiredService<IMemoryCache>());
        Assert.Same(cache, provider.GetRequiredService<BoundedMemoryCache>());
        Assert.Equal(("app-cache", (long?)1_000), (((BoundedMemoryCache)cache).Name, ((BoundedMemoryCache)cache).MaximumWeight));
    }

    [Fact]
    public void AddSafeMemCache_ProviderDisposed_DisposesTheCache()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.MaximumCount = 10);
        ServiceProvider provider = services.BuildServiceProvider();
        IMemoryCache cache = provider.GetRequiredService<IMemoryCache>();

        provider.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.TryGetValue("k", out _));
    }

    [Fact]
    public void AddSafeMemCache_WithAddMetrics_PublishesOnTheContainersMeterFactory()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSafeMemCache(options =>
        {
            options.Name = "di-metrics";
            options.MaximumCount = 10;
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        IMeterFactory factory = provider.GetRequiredService<IMeterFactory>();
        IMemoryCache cache = provider.GetRequiredService<IMemoryCache>();
        cache.Set("k", 1);
        cache.TryGetValue("k", out _);
        cache.TryGetValue("missing", out _);

        // The factory hands back the one meter it made for SafeMem; the recorder listens to that meter only.
        Meter meter = factory.Create(new MeterOptions(SafeMemMetrics.MeterName) { Version = SafeMemMetrics.MeterVersion });
        using var recorder = new MetricRecorder(meter);

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.requests", "di-metrics", (SafeMemTags.CacheResult, "hit")));
        Assert.Equal(1, recorder.ObserveValue("safemem.cache.requests", "di-metrics", (SafeMemTags.CacheResult, "miss")));
        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", "di-metrics"));
        Assert.Same(factory, recorder.Instruments["safemem.cache.requests"].Meter.Scope);
    }

    [Fact]
    public void AddSafeMemCache_MeterFactoryInOptions_WinsOverTheContainers()
    {
        using var own = new TestMeterFactory();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSafeMemCache(options =>
        {
            options.Name = "own-meter";
            options.MaximumCount = 10;
            options.MeterFactory = own;
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IMemoryCache>().Set("k", 1);

        using var recorder = new MetricRecorder(Assert.Single(own.Meters));

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", "own-meter"));
    }

    [Fact]
    public void AddSafeMemCache_NoBoundConfigured_ResolvingThrowsArgumentException()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.Name = "unbounded");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Throws<ArgumentException>(() => provider.GetRequiredService<IMemoryCache>());
    }

    [Fact]
    public void AddSafeMemCache_NullArguments_ThrowArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddSafeMemCache(_ => { }));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddSafeMemCache(null!));
    }
}
