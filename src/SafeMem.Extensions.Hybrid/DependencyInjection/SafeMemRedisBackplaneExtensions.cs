using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Caching;

// In the namespace of IServiceCollection, as the registration extensions of every Microsoft.Extensions package are
// (see SafeMemHybridCacheServiceCollectionExtensions).
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis backplane to HybridCache as registered by <c>AddSafeMemHybridCache</c>.</summary>
/// <remarks>
/// Registration holds nothing but the configuration delegate; the backplane is a container-owned singleton, built with
/// HybridCache's distributed cache (the first time HybridCache is resolved) and disposed with the container.
/// Registration is not thread-safe, as no <see cref="IServiceCollection"/> call is.
/// </remarks>
public static class SafeMemRedisBackplaneExtensions
{
    /// <summary>
    /// Adds a <see cref="RedisBackplane"/>: when this node writes or removes a HybridCache entry (or invalidates a
    /// tag), every other node with the same <see cref="RedisBackplaneOptions.ChannelPrefix"/> drops its local copy
    /// within milliseconds, over Redis pub/sub.
    /// </summary>
    /// <param name="builder">The builder <c>AddSafeMemHybridCache</c> returned.</param>
    /// <param name="configure">Sets the connection (<see cref="RedisBackplaneOptions.Configuration"/>, an existing
    /// <see cref="RedisBackplaneOptions.ConnectionMultiplexer"/>, ...), the channel prefix, and what a node does while it
    /// cannot hear the others.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <remarks>
    /// The backplane announces the changes that reach the distributed cache through the <see cref="ResilientDistributedCache"/>
    /// that <c>AddSafeMemHybridCache</c> puts around the application's <see cref="IDistributedCache"/>: without a
    /// distributed cache (or with an application-chosen <see cref="HybridCacheOptions.DistributedCacheServiceKey"/>) it
    /// has nothing to announce. It never delays a request; see <see cref="RedisBackplane"/> for what it guarantees.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>AddSafeMemHybridCache</c> was not called on these services, or the backplane is registered already.</exception>
    public static IHybridCacheBuilder AddSafeMemRedisBackplane(this IHybridCacheBuilder builder, Action<RedisBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        IServiceCollection services = builder.Services;
        if (!services.Any(d => d.IsKeyedService && Equals(d.ServiceKey, SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey)))
        {
            throw new InvalidOperationException(
                "AddSafeMemRedisBackplane extends AddSafeMemHybridCache: register with services.AddSafeMemHybridCache(...).AddSafeMemRedisBackplane(...).");
        }

        if (services.Any(d => d.ServiceType == typeof(RedisBackplane)))
        {
            throw new InvalidOperationException("AddSafeMemRedisBackplane was called already: a node has one backplane.");
        }

        services.AddOptions<RedisBackplaneOptions>().Configure(configure);
        services.AddSingleton(static provider => new RedisBackplane(
            provider.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value,
            provider.GetRequiredService<BoundedMemoryCache>(),
            () => provider.GetService<HybridCache>(),
            () => provider.GetKeyedService<IDistributedCache>(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey),
            provider.GetService<IMeterFactory>()));
        return builder;
    }
}
