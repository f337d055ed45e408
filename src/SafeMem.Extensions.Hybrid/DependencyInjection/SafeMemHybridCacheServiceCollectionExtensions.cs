using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Caching;

// The namespace breaks the folder = namespace rule on purpose: registration extensions live in the namespace of
// IServiceCollection (as AddHybridCache and every Microsoft.Extensions package's do) so they are found without a using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers HybridCache with SafeMem's bounded local cache and a resilient distributed cache.</summary>
/// <remarks>
/// Registration holds nothing but the configuration delegates. The registered caches are container-owned
/// singletons. Like every <see cref="IServiceCollection"/> call, registration is not thread-safe; resolving is.
/// </remarks>
public static class SafeMemHybridCacheServiceCollectionExtensions
{
    /// <summary>The service key under which the <see cref="ResilientDistributedCache"/> that HybridCache uses is registered.</summary>
    public const string DistributedCacheServiceKey = "SafeMem.ResilientDistributedCache";

    /// <summary>
    /// Registers <see cref="HybridCache"/> (<c>AddHybridCache</c>) with a <see cref="BoundedMemoryCache"/> as its local
    /// cache (<c>AddSafeMemCache</c>) and, when the application registers an <see cref="IDistributedCache"/> (for example
    /// with <c>AddStackExchangeRedisCache</c>, before or after this call), a <see cref="ResilientDistributedCache"/> over
    /// it as HybridCache's distributed cache.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configureLocalCache">Sets the local cache's options; it must set a bound. HybridCache sizes each
    /// entry by its serialized payload in bytes, so <see cref="BoundedMemoryCacheOptions.MaximumWeight"/> is a byte budget.</param>
    /// <param name="configureDistributedCache">Adjusts the timeout and circuit breaker around the distributed cache, and
    /// its name; null keeps the defaults of <see cref="ResilientDistributedCacheOptions"/>. When its
    /// <see cref="ResilientDistributedCacheOptions.MeterFactory"/> is left null and the container has an
    /// <see cref="IMeterFactory"/> (e.g. from <c>AddMetrics()</c>), both caches' instruments are created on that factory's meter.</param>
    /// <returns>HybridCache's builder, to add serializers.</returns>
    /// <remarks>
    /// The wrapper is registered under <see cref="DistributedCacheServiceKey"/> and HybridCache is pointed at it
    /// (<see cref="HybridCacheOptions.DistributedCacheServiceKey"/>), so only HybridCache sees the timeout and the
    /// breaker: other users of the application's <see cref="IDistributedCache"/> (session state, for instance) are
    /// unaffected. If the application sets <see cref="HybridCacheOptions.DistributedCacheServiceKey"/> itself, that
    /// choice is kept and nothing is wrapped; wrap that cache with <see cref="ResilientDistributedCache"/> directly.
    /// The local cache is also the application's <see cref="Microsoft.Extensions.Caching.Memory.IMemoryCache"/>, so,
    /// like <c>AddSafeMemCache</c>, this may be called once, and not beside <c>AddSafeMemCache</c>: a second call throws
    /// rather than merge two configurations of that cache.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configureLocalCache"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The application's SafeMem <c>IMemoryCache</c> is already registered
    /// (by an earlier call of this method or of <c>AddSafeMemCache</c>).</exception>
    public static IHybridCacheBuilder AddSafeMemHybridCache(
        this IServiceCollection services,
        Action<BoundedMemoryCacheOptions> configureLocalCache,
        Action<ResilientDistributedCacheOptions>? configureDistributedCache = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configureLocalCache);

        services.AddSafeMemCache(configureLocalCache);

        OptionsBuilder<ResilientDistributedCacheOptions> options = services.AddOptions<ResilientDistributedCacheOptions>();
        if (configureDistributedCache is not null)
        {
            options.Configure(configureDistributedCache);
        }

        // Resolved lazily, when HybridCache is built: the application may register its IDistributedCache after this call.
        services.TryAddKeyedSingleton<IDistributedCache>(DistributedCacheServiceKey, static (provider, _) => new ResilientDistributedCache(
            provider.GetService<IDistributedCache>() ?? throw new InvalidOperationException(
                $"HybridCache was pointed at the key '{DistributedCacheServiceKey}' but no IDistributedCache is registered to wrap."),
            provider.GetRequiredService<IOptions<ResilientDistributedCacheOptions>>(),
            provider.GetService<IMeterFactory>(),
            provider.GetService<RedisBackplane>()));

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<HybridCacheOptions>, UseResilientDistributedCache>());
        return services.AddHybridCache();
    }

    /// <summary>Points HybridCache at the wrapper, only when there is a distributed cache to wrap and the application chose no other.</summary>
    private sealed class UseResilientDistributedCache(IServiceProviderIsService services) : IPostConfigureOptions<HybridCacheOptions>
    {
        public void PostConfigure(string? name, HybridCacheOptions options)
        {
            if (options.DistributedCacheServiceKey is null && services.IsService(typeof(IDistributedCache)))
            {
                options.DistributedCacheServiceKey = DistributedCacheServiceKey;
            }
        }
    }
}
