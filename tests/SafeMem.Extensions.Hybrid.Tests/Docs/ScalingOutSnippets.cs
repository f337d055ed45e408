using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace SafeMem.Extensions.Hybrid.Tests.Docs;

// The code docs/scaling-out.md shows, compiled. ScalingOutDocTests checks that every line of the page's C# blocks
// appears here, and the Redis integration tests register their nodes with these very methods, so the configuration
// the page recommends is the one that is tested against a real Redis outage.
public static class ScalingOutSnippets
{
    /// <summary>The three calls, without the resilience this package adds: works, but stalls when Redis does.</summary>
    public static void Plain(IServiceCollection services, string redisEndPoint)
    {
        services.AddSafeMemCache(options =>
        {
            options.Name = "hybrid-l1";
            options.MaximumWeight = 256 * 1024 * 1024; // bytes of serialized payload
        });
        services.AddStackExchangeRedisCache(options => options.Configuration = redisEndPoint);
        services.AddHybridCache();
    }

    /// <summary>The recommended registration: bounded L1, a Redis client that fails fast, a breaker around the L2.</summary>
    public static void Recommended(IServiceCollection services, string redisEndPoint)
    {
        services.AddStackExchangeRedisCache(options =>
        {
            options.InstanceName = "app:";
            options.ConfigurationOptions = new ConfigurationOptions
            {
                EndPoints = { redisEndPoint },
                AbortOnConnectFail = false,             // start without Redis; reconnect in the background
                BacklogPolicy = BacklogPolicy.FailFast, // while disconnected, fail commands at once rather than queue them
                ConnectTimeout = 2_000,
                AsyncTimeout = 2_000,
                SyncTimeout = 2_000,
            };
        });

        services.AddSafeMemHybridCache(
            local =>
            {
                local.Name = "hybrid-l1";
                local.MaximumWeight = 256 * 1024 * 1024; // bytes of serialized payload
                local.MaximumCount = 1_000_000;          // bounds entries whose payload weighs (next to) nothing
            },
            distributed => distributed.BreakDuration = TimeSpan.FromSeconds(5));

        services.Configure<HybridCacheOptions>(options => options.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = TimeSpan.FromMinutes(30),         // in Redis
            LocalCacheExpiration = TimeSpan.FromMinutes(1), // in each node's L1: bounds what another node may serve after a removal
        });
    }

    /// <summary>The recommended registration plus the Redis backplane: a change on one node reaches every node's L1.</summary>
    public static void RecommendedWithBackplane(IServiceCollection services, string redisEndPoint)
    {
        services.AddStackExchangeRedisCache(options =>
        {
            options.InstanceName = "app:";
            options.ConfigurationOptions = new ConfigurationOptions
            {
                EndPoints = { redisEndPoint },
                AbortOnConnectFail = false,             // start without Redis; reconnect in the background
                BacklogPolicy = BacklogPolicy.FailFast, // while disconnected, fail commands at once rather than queue them
                ConnectTimeout = 2_000,
                AsyncTimeout = 2_000,
                SyncTimeout = 2_000,
            };
        });

        services.AddSafeMemHybridCache(
            local =>
            {
                local.Name = "hybrid-l1";
                local.MaximumWeight = 256 * 1024 * 1024; // bytes of serialized payload
                local.MaximumCount = 1_000_000;          // bounds entries whose payload weighs (next to) nothing
            },
            distributed => distributed.BreakDuration = TimeSpan.FromSeconds(5))
            .AddSafeMemRedisBackplane(backplane =>
            {
                backplane.Configuration = redisEndPoint; // its own connection: AbortOnConnectFail off, FailFast
                backplane.ChannelPrefix = "app:";        // one per application sharing this Redis, like InstanceName
            });

        services.Configure<HybridCacheOptions>(options => options.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = TimeSpan.FromMinutes(30),         // in Redis
            LocalCacheExpiration = TimeSpan.FromMinutes(1), // in each node's L1: bounds what another node may serve after a removal
        });
    }
}
