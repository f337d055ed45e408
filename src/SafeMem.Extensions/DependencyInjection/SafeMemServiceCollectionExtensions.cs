using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;
using SafeMem.Extensions.Caching;
using SafeMem.Pooling;

// The namespace breaks the folder = namespace rule on purpose: registration extensions live in the namespace of
// IServiceCollection (as AddMemoryCache and every Microsoft.Extensions package's do) so they are found without a using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers SafeMem's building blocks in an <see cref="IServiceCollection"/>.</summary>
/// <remarks>
/// The registered cache and pool provider are singletons owned by the container: the container disposes the cache (and
/// so lets go of every entry) when it is disposed. Registration itself holds nothing but the configuration delegate. Like every
/// <see cref="IServiceCollection"/> call, registration is not thread-safe; resolving the cache is.
/// </remarks>
public static class SafeMemServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="BoundedMemoryCache"/> as the application's singleton <see cref="IMemoryCache"/>, replacing
    /// any registered before (e.g. by <c>AddMemoryCache</c>; one registered after by <c>AddMemoryCache</c> is not added,
    /// since it only adds when none exists). The cache is also resolvable as <see cref="BoundedMemoryCache"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the cache's options; it must set a bound (<see cref="BoundedMemoryCacheOptions.MaximumCount"/>
    /// and/or <see cref="BoundedMemoryCacheOptions.MaximumWeight"/>), or resolving the cache throws.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>When <see cref="BoundedMemoryCacheOptions.MeterFactory"/> is left null and the container has an
    /// <see cref="IMeterFactory"/> (e.g. from <c>AddMetrics()</c>), the cache's instruments are created on that factory's meter.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is null.</exception>
    public static IServiceCollection AddSafeMemCache(this IServiceCollection services, Action<BoundedMemoryCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions();
        services.Configure(configure);
        services.TryAddSingleton(static provider => new BoundedMemoryCache(
            provider.GetRequiredService<IOptions<BoundedMemoryCacheOptions>>(),
            provider.GetService<IMeterFactory>()));

        // RemoveAll rather than Replace: Replace swaps only the first of possibly several registrations.
        services.RemoveAll<IMemoryCache>();
        services.AddSingleton<IMemoryCache>(static provider => provider.GetRequiredService<BoundedMemoryCache>());
        return services;
    }

    /// <summary>
    /// Registers a <see cref="TrackedObjectPoolProvider"/> as the application's singleton <see cref="ObjectPoolProvider"/>,
    /// replacing any registered before (e.g. <c>DefaultObjectPoolProvider</c>, which ASP.NET Core adds with
    /// <c>TryAdd</c>, so it is not added after this), so every pool created through the provider is counted and, when
    /// sampling is on, leak-tracked. The provider is also resolvable as <see cref="TrackedObjectPoolProvider"/>, whose
    /// <see cref="TrackedObjectPoolProvider.LeakTracker"/> reports the leaks of all its pools.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the pools' options (sampling rate, stack capture, maximum retained, name prefix), or null for the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>When <see cref="TrackedObjectPoolOptions.MeterFactory"/> is left null and the container has an
    /// <see cref="IMeterFactory"/> (e.g. from <c>AddMetrics()</c>), the pools' instruments are created on that factory's meter.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddSafeMemObjectPools(this IServiceCollection services, Action<TrackedObjectPoolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(static provider => new TrackedObjectPoolProvider(
            provider.GetRequiredService<IOptions<TrackedObjectPoolOptions>>().Value,
            provider.GetService<IMeterFactory>()));

        // RemoveAll rather than Replace: Replace swaps only the first of possibly several registrations.
        services.RemoveAll<ObjectPoolProvider>();
        services.AddSingleton<ObjectPoolProvider>(static provider => provider.GetRequiredService<TrackedObjectPoolProvider>());
        return services;
    }
}
