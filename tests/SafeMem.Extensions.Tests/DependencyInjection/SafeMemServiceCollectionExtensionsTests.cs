using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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
    public void AddSafeMemCache_NoBoundConfigured_FailsStartupValidationNamingTheOptions()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.Name = "unbounded");
        using ServiceProvider provider = services.BuildServiceProvider();

        // What a generic host runs when it starts, before anything resolves the cache.
        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("MaximumCount", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaximumWeight", ex.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IMemoryCache>());
    }

    [Fact]
    public void AddSafeMemCache_OptionOutOfRange_FailsStartupValidationNamingTheOption()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.MaximumCount = 0);
        using ServiceProvider provider = services.BuildServiceProvider();

        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("MaximumCount", ex.ParamName);
    }

    [Fact]
    public void AddSafeMemCache_ValidOptions_StartupValidationPasses()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.MaximumWeight = 100);
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Equal(100, provider.GetRequiredService<BoundedMemoryCache>().MaximumWeight);
    }

    [Fact]
    public void AddSafeMemCache_CalledTwice_RefusesTheSecondCallAndNamesTheAlternatives()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.MaximumCount = 10);

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => services.AddSafeMemCache(options => options.MaximumWeight = 50));

        Assert.Contains("AddKeyedSafeMemCache", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Configure<BoundedMemoryCacheOptions>", ex.Message, StringComparison.Ordinal);
        using ServiceProvider provider = services.BuildServiceProvider();
        BoundedMemoryCache cache = provider.GetRequiredService<BoundedMemoryCache>();
        Assert.Equal(((int?)10, (long?)null), (cache.MaximumCount, cache.MaximumWeight));
    }

    [Fact]
    public void AddKeyedSafeMemCache_TwoKeys_TwoCachesEachWithItsOwnOptions()
    {
        var services = new ServiceCollection();
        services.AddKeyedSafeMemCache("images", options =>
        {
            options.Name = "images";
            options.MaximumWeight = 1_000;
        });
        services.AddKeyedSafeMemCache("users", options =>
        {
            options.Name = "users";
            options.MaximumCount = 5;
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        BoundedMemoryCache images = provider.GetRequiredKeyedService<BoundedMemoryCache>("images");
        BoundedMemoryCache users = provider.GetRequiredKeyedService<BoundedMemoryCache>("users");

        Assert.NotSame(images, users);
        Assert.Equal(("images", (long?)1_000, (int?)null), (images.Name, images.MaximumWeight, images.MaximumCount));
        Assert.Equal(("users", (long?)null, (int?)5), (users.Name, users.MaximumWeight, users.MaximumCount));
        Assert.Same(images, provider.GetRequiredKeyedService<IMemoryCache>("images"));
        Assert.Same(images, provider.GetRequiredKeyedService<BoundedMemoryCache>("images"));

        // Keyed caches leave the application's IMemoryCache alone.
        Assert.Null(provider.GetService<IMemoryCache>());
    }

    [Fact]
    public void AddKeyedSafeMemCache_BesideAddSafeMemCache_BothResolveSeparately()
    {
        var services = new ServiceCollection();
        services.AddSafeMemCache(options => options.MaximumCount = 10);
        services.AddKeyedSafeMemCache("other", options => options.MaximumCount = 20);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var main = (BoundedMemoryCache)provider.GetRequiredService<IMemoryCache>();
        BoundedMemoryCache other = provider.GetRequiredKeyedService<BoundedMemoryCache>("other");

        Assert.Equal(((int?)10, (int?)20), (main.MaximumCount, other.MaximumCount));
    }

    [Fact]
    public void AddKeyedSafeMemCache_NameLeftUnset_IsTheKey()
    {
        var services = new ServiceCollection();
        services.AddKeyedSafeMemCache("thumbnails", options => options.MaximumCount = 10);
        services.AddKeyedSafeMemCache("named", options => (options.Name, options.MaximumCount) = ("explicit", 10));
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal("thumbnails", provider.GetRequiredKeyedService<BoundedMemoryCache>("thumbnails").Name);
        Assert.Equal("explicit", provider.GetRequiredKeyedService<BoundedMemoryCache>("named").Name);
    }

    [Fact]
    public void AddKeyedSafeMemCache_SameKeyTwice_RefusesTheSecondCall()
    {
        var services = new ServiceCollection();
        services.AddKeyedSafeMemCache("k", options => options.MaximumCount = 10);

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => services.AddKeyedSafeMemCache("k", options => options.MaximumCount = 20));

        Assert.Contains("'k'", ex.Message, StringComparison.Ordinal);
        services.AddKeyedSafeMemCache("k2", options => options.MaximumCount = 20);
    }

    [Fact]
    public void AddKeyedSafeMemCache_NoBound_FailsStartupValidationNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddKeyedSafeMemCache("fine", options => options.MaximumCount = 10);
        services.AddKeyedSafeMemCache("broken", options => options.Name = "broken");
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("broken", ex.OptionsName);
        Assert.Contains("MaximumCount", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddKeyedSafeMemCache_ProviderDisposed_DisposesTheCache()
    {
        var services = new ServiceCollection();
        services.AddKeyedSafeMemCache("k", options => options.MaximumCount = 10);
        ServiceProvider provider = services.BuildServiceProvider();
        BoundedMemoryCache cache = provider.GetRequiredKeyedService<BoundedMemoryCache>("k");

        provider.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.TryGetValue("k", out _));
    }

    [Fact]
    public void AddKeyedSafeMemCache_WithAddMetrics_PublishesOnTheContainersMeterFactory()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddKeyedSafeMemCache("k", options =>
        {
            options.Name = "keyed-metrics";
            options.MaximumCount = 10;
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        IMeterFactory factory = provider.GetRequiredService<IMeterFactory>();
        provider.GetRequiredKeyedService<IMemoryCache>("k").Set("a", 1);

        Meter meter = factory.Create(new MeterOptions(SafeMemMetrics.MeterName) { Version = SafeMemMetrics.MeterVersion });
        using var recorder = new MetricRecorder(meter);

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", "keyed-metrics"));
    }

    [Fact]
    public void AddKeyedSafeMemCache_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddKeyedSafeMemCache("k", _ => { }));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddKeyedSafeMemCache("k", null!));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddKeyedSafeMemCache(null!, _ => { }));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddKeyedSafeMemCache("", _ => { }));
    }

    [Fact]
    public void AddSafeMemCache_NullArguments_ThrowArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddSafeMemCache(_ => { }));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddSafeMemCache(null!));
    }
}
