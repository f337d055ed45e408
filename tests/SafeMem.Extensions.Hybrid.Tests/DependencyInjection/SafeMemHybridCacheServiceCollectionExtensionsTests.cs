using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SafeMem.Extensions.Caching;
using SafeMem.Extensions.Hybrid.Tests.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.DependencyInjection;

public sealed class SafeMemHybridCacheServiceCollectionExtensionsTests
{
    [Fact]
    public void AddSafeMemHybridCache_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("services", () => SafeMemHybridCacheServiceCollectionExtensions.AddSafeMemHybridCache(null!, _ => { }));
        Assert.Throws<ArgumentNullException>("configureLocalCache", () => new ServiceCollection().AddSafeMemHybridCache(null!));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddSafeMemHybridCache_WithADistributedCache_HybridCacheUsesTheBoundedL1AndTheWrappedL2(bool distributedCacheFirst)
    {
        var inner = new ScriptedDistributedCache();
        var services = new ServiceCollection();
        if (distributedCacheFirst)
        {
            services.AddSingleton<IDistributedCache>(inner);
        }

        services.AddSafeMemHybridCache(o => o.MaximumWeight = 10_000, o => o.BreakDuration = TimeSpan.FromSeconds(7));
        if (!distributedCacheFirst)
        {
            services.AddSingleton<IDistributedCache>(inner);
        }

        await using ServiceProvider provider = services.BuildServiceProvider();
        HybridCache cache = provider.GetRequiredService<HybridCache>();

        Assert.Equal("v", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v")));

        Assert.Equal(1, provider.GetRequiredService<BoundedMemoryCache>().Count);
        Assert.Same(provider.GetRequiredService<BoundedMemoryCache>(), provider.GetRequiredService<IMemoryCache>());
        await inner.WaitForKeyAsync("k"); // written through the wrapper, in the background after the factory's value was returned
        Assert.Equal(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey, provider.GetRequiredService<IOptions<HybridCacheOptions>>().Value.DistributedCacheServiceKey);
        var wrapper = Assert.IsType<ResilientDistributedCache>(provider.GetRequiredKeyedService<IDistributedCache>(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey));
        Assert.Same(inner, wrapper.InnerCache);
        Assert.Equal(TimeSpan.FromSeconds(7), provider.GetRequiredService<IOptions<ResilientDistributedCacheOptions>>().Value.BreakDuration);

        // Only HybridCache goes through the wrapper; the application's own IDistributedCache is left as it was.
        Assert.Same(inner, provider.GetRequiredService<IDistributedCache>());
    }

    [Fact]
    public async Task AddSafeMemHybridCache_DistributedCacheFails_GetOrCreateStillAnswersFromTheFactory()
    {
        var inner = new ScriptedDistributedCache { Behavior = ScriptedBehavior.Throw };
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(inner);
        services.AddSafeMemHybridCache(o => o.MaximumWeight = 10_000);
        await using ServiceProvider provider = services.BuildServiceProvider();
        HybridCache cache = provider.GetRequiredService<HybridCache>();

        // (Whether a later read of k1 is an L1 hit depends on when HybridCache's start-up read of the wildcard tag
        // failed: it takes that moment as "everything invalidated now". The Redis outage tests cover L1 hits.)
        Assert.Equal("v1", await cache.GetOrCreateAsync("k1", _ => ValueTask.FromResult("v1")));
        Assert.Equal("v2", await cache.GetOrCreateAsync("k2", _ => ValueTask.FromResult("v2")));
        Assert.True(inner.Calls > 0);
    }

    [Fact]
    public async Task AddSafeMemHybridCache_NoDistributedCache_HybridCacheIsLocalOnly()
    {
        var services = new ServiceCollection();
        services.AddSafeMemHybridCache(o => o.MaximumCount = 10);
        await using ServiceProvider provider = services.BuildServiceProvider();
        HybridCache cache = provider.GetRequiredService<HybridCache>();

        Assert.Equal("v", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v")));

        Assert.Null(provider.GetRequiredService<IOptions<HybridCacheOptions>>().Value.DistributedCacheServiceKey);
        Assert.Equal(1, provider.GetRequiredService<BoundedMemoryCache>().Count);
    }

    [Fact]
    public async Task AddSafeMemHybridCache_ApplicationChoseADistributedCacheKey_KeepsThatChoice()
    {
        var chosen = new ScriptedDistributedCache();
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(new ScriptedDistributedCache());
        services.AddKeyedSingleton<IDistributedCache>("mine", chosen);
        services.AddSafeMemHybridCache(o => o.MaximumCount = 10);
        services.Configure<HybridCacheOptions>(o => o.DistributedCacheServiceKey = "mine");
        await using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<HybridCache>().GetOrCreateAsync("k", _ => ValueTask.FromResult("v"));

        Assert.Equal("mine", provider.GetRequiredService<IOptions<HybridCacheOptions>>().Value.DistributedCacheServiceKey);
        await chosen.WaitForKeyAsync("k"); // HybridCache writes it in the background
    }

    [Fact]
    public void AddSafeMemHybridCache_CalledTwice_RefusesTheSecondCallAndRegistersOneOfEach()
    {
        var services = new ServiceCollection();
        services.AddSafeMemHybridCache(o => o.MaximumCount = 10);

        // Its local cache is the application's one SafeMem IMemoryCache: a second configuration is refused, not merged.
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => services.AddSafeMemHybridCache(o => o.MaximumCount = 20));
        Assert.Contains("AddSafeMemHybridCache", ex.Message, StringComparison.Ordinal);

        Assert.Single(services, d => d.IsKeyedService && Equals(d.ServiceKey, SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey));
        Assert.Single(services, d => d.ServiceType == typeof(IPostConfigureOptions<HybridCacheOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(HybridCache));
    }
}
