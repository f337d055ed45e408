using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Hybrid.Tests.Backplane;
using SafeMem.Extensions.Hybrid.Tests.Caching;
using StackExchange.Redis;

namespace SafeMem.Extensions.Hybrid.Tests.DependencyInjection;

public sealed class SafeMemRedisBackplaneExtensionsTests
{
    [Fact]
    public void AddSafeMemRedisBackplane_NullArguments_Throw()
    {
        IHybridCacheBuilder builder = new ServiceCollection().AddSafeMemHybridCache(o => o.MaximumCount = 10);
        Assert.Throws<ArgumentNullException>("builder", () => SafeMemRedisBackplaneExtensions.AddSafeMemRedisBackplane(null!, _ => { }));
        Assert.Throws<ArgumentNullException>("configure", () => builder.AddSafeMemRedisBackplane(null!));
    }

    [Fact]
    public void AddSafeMemRedisBackplane_WithoutAddSafeMemHybridCache_OrTwice_Throws()
    {
        // A plain AddHybridCache has no wrapper whose changes the backplane could announce.
        InvalidOperationException alone = Assert.Throws<InvalidOperationException>(
            () => new ServiceCollection().AddHybridCache().AddSafeMemRedisBackplane(o => o.Configuration = "localhost"));
        Assert.Contains("AddSafeMemHybridCache", alone.Message, StringComparison.Ordinal);

        IHybridCacheBuilder builder = new ServiceCollection().AddSafeMemHybridCache(o => o.MaximumCount = 10).AddSafeMemRedisBackplane(o => o.Configuration = "localhost");
        Assert.Throws<InvalidOperationException>(() => builder.AddSafeMemRedisBackplane(o => o.Configuration = "localhost"));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(RedisBackplane));
    }

    [Fact]
    public async Task ABackplaneWithoutAnyConnection_FailsWhenHybridCacheIsBuilt_NamingTheOptions()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(new ScriptedDistributedCache());
        services.AddSafeMemHybridCache(o => o.MaximumCount = 10).AddSafeMemRedisBackplane(o => o.ChannelPrefix = "app:");
        await using ServiceProvider provider = services.BuildServiceProvider();

        InvalidOperationException exception = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<HybridCache>());
        Assert.Contains("RedisBackplaneOptions.Configuration", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithRedisUnreachable_HybridCacheServes_AndTheWrapperHandsItsChangesToTheBackplane()
    {
        // A connection factory that fails, as when Redis is down at start-up: nothing waits for it.
        int attempts = 0;
        var redis = new ScriptedDistributedCache();
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(redis);
        services.AddSafeMemHybridCache(o => o.MaximumCount = 10).AddSafeMemRedisBackplane(o =>
        {
            o.ConnectionMultiplexerFactory = () =>
            {
                Interlocked.Increment(ref attempts);
                return Task.FromException<IConnectionMultiplexer>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "scripted"));
            };
            o.ProbeInterval = TimeSpan.FromMilliseconds(50);
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        HybridCache cache = provider.GetRequiredService<HybridCache>();
        RedisBackplane backplane = provider.GetRequiredService<RedisBackplane>();

        Assert.Equal("v", await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v")));
        await cache.SetAsync("k", "v2");
        await redis.WaitForKeyAsync("k");

        // The change reached Redis; announcing it failed (no connection): it waits for recovery.
        await WaitUntilAsync(() => backplane.GetStatistics().PendingChanges >= 1 && Volatile.Read(ref attempts) >= 2);
        Assert.False(backplane.IsConnected);
        Assert.Equal("safemem-backplane", backplane.Channel);
    }

    [Fact]
    public async Task DisposingTheContainer_DisposesTheBackplane_AndItsTransport()
    {
        var bus = new InMemoryBackplaneBus();
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(new ScriptedDistributedCache());
        services.AddSafeMemHybridCache(o => o.MaximumCount = 10).AddSafeMemRedisBackplane(o =>
        {
            o.TransportFactory = bus.Connect;
            o.ManualProbes = true;
        });
        ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<HybridCache>();
        Assert.Equal(1, bus.Connected);

        await provider.DisposeAsync();

        Assert.Equal(0, bus.Connected);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; !condition(); i++)
        {
            Assert.True(i < 2_000, "The condition did not hold within 20 s.");
            await Task.Delay(10);
        }
    }
}
