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
/// <para>A registered cache or pool provider is a singleton owned by the container: the container disposes it (and so
/// lets go of every entry) when it is disposed. Registration itself holds nothing but the configuration delegate. Like every
/// <see cref="IServiceCollection"/> call, registration is not thread-safe; resolving a cache is.</para>
/// <para><b>Validation.</b> Options are validated at startup: a value that can never be valid (a zero bound) throws
/// from its setter while the configuration runs, naming the option, and options that set no bound fail an
/// <see cref="IValidateOptions{TOptions}"/> check. Both run through <c>ValidateOnStart</c>, so a generic host
/// (<c>Host.CreateApplicationBuilder</c>, ASP.NET Core) refuses to start; without a host, call
/// <see cref="IStartupValidator.Validate"/> from the provider, or the first resolution of the cache throws.</para>
/// <para><b>Several caches.</b> <see cref="AddSafeMemCache"/> registers the application's one <see cref="IMemoryCache"/>
/// and may be called once: a second call throws rather than merge two configurations into one cache. Further caches
/// are keyed services (<see cref="AddKeyedSafeMemCache"/>), each with its own options, named after its key.</para>
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
    /// and/or <see cref="BoundedMemoryCacheOptions.MaximumWeight"/>), or startup validation fails.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>
    /// <para>Call it once. To adjust the cache's options from elsewhere (a library, a test), use
    /// <c>services.Configure&lt;BoundedMemoryCacheOptions&gt;(...)</c>; for another cache, use <see cref="AddKeyedSafeMemCache"/>.</para>
    /// <para>When <see cref="BoundedMemoryCacheOptions.MeterFactory"/> is left null and the container has an
    /// <see cref="IMeterFactory"/> (e.g. from <c>AddMetrics()</c>), the cache's instruments are created on that factory's meter.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>AddSafeMemCache</c> was already called on <paramref name="services"/>
    /// (or a <see cref="BoundedMemoryCache"/> is registered without a key).</exception>
    public static IServiceCollection AddSafeMemCache(this IServiceCollection services, Action<BoundedMemoryCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(static d => d.ServiceType == typeof(BoundedMemoryCache) && !d.IsKeyedService))
        {
            throw new InvalidOperationException(
                "AddSafeMemCache was already called (directly, or by AddSafeMemHybridCache, whose local cache it registers): the application has one SafeMem IMemoryCache, and a second call would merge two configurations into it. "
                + "To change that cache's options from elsewhere, call services.Configure<BoundedMemoryCacheOptions>(...); "
                + "for another cache, call AddKeyedSafeMemCache(key, ...) and resolve it with [FromKeyedServices(key)].");
        }

        AddOptions(services, Options.Options.DefaultName, configure);
        services.AddSingleton(static provider => new BoundedMemoryCache(
            provider.GetRequiredService<IOptions<BoundedMemoryCacheOptions>>(),
            provider.GetService<IMeterFactory>()));

        // RemoveAll rather than Replace: Replace swaps only the first of possibly several registrations.
        services.RemoveAll<IMemoryCache>();
        services.AddSingleton<IMemoryCache>(static provider => provider.GetRequiredService<BoundedMemoryCache>());
        return services;
    }

    /// <summary>
    /// Registers one more <see cref="BoundedMemoryCache"/> as a keyed singleton, resolvable as
    /// <see cref="BoundedMemoryCache"/> and as <see cref="IMemoryCache"/> under <paramref name="serviceKey"/>
    /// (<c>[FromKeyedServices("images")] IMemoryCache cache</c>). It leaves the application's unkeyed
    /// <see cref="IMemoryCache"/> alone.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The service key; also the name of the cache's options (<c>IOptionsMonitor&lt;BoundedMemoryCacheOptions&gt;.Get(serviceKey)</c>),
    /// which <c>services.Configure&lt;BoundedMemoryCacheOptions&gt;(serviceKey, ...)</c> can adjust from elsewhere.</param>
    /// <param name="configure">Sets the cache's options; it must set a bound, or startup validation fails.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>The cache's <see cref="BoundedMemoryCacheOptions.Name"/> (its telemetry name) defaults to
    /// <paramref name="serviceKey"/> when <paramref name="configure"/> leaves it unset. The meter factory is chosen as
    /// for <see cref="AddSafeMemCache"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="serviceKey"/> or <paramref name="configure"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="serviceKey"/> is empty (the name of the unkeyed cache's options).</exception>
    /// <exception cref="InvalidOperationException">A cache is already registered under <paramref name="serviceKey"/>.</exception>
    public static IServiceCollection AddKeyedSafeMemCache(this IServiceCollection services, string serviceKey, Action<BoundedMemoryCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(serviceKey);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(BoundedMemoryCache) && d.IsKeyedService && Equals(d.ServiceKey, serviceKey)))
        {
            throw new InvalidOperationException(
                $"A SafeMem cache is already registered under the key '{serviceKey}'; a second registration would merge two configurations into it. "
                + $"To change its options from elsewhere, call services.Configure<BoundedMemoryCacheOptions>(\"{serviceKey}\", ...); for another cache, use another key.");
        }

        AddOptions(services, serviceKey, configure);

        // An unnamed keyed cache reports under its key rather than a generated name: "images" reads better than "cache-3".
        services.PostConfigure<BoundedMemoryCacheOptions>(serviceKey, options => options.Name ??= serviceKey);
        services.AddKeyedSingleton(serviceKey, static (provider, key) => new BoundedMemoryCache(
            provider.GetRequiredService<IOptionsMonitor<BoundedMemoryCacheOptions>>().Get((string)key!),
            provider.GetService<IMeterFactory>()));
        services.AddKeyedSingleton<IMemoryCache>(serviceKey, static (provider, key) => provider.GetRequiredKeyedService<BoundedMemoryCache>(key));
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
    /// <remarks>
    /// <para>Names, as dashboards and leak reports show them: the provider and its tracker are named by
    /// <see cref="TrackedObjectPoolOptions.Name"/>, or <c>object-pools-1</c> when it is left unset (<c>-2</c>, <c>-3</c>... for
    /// further unnamed providers in the process, such as a second host's), and each pool
    /// <c>&lt;provider&gt;/&lt;object type&gt;</c>, with <c>-2</c>, <c>-3</c>... for further pools of one type
    /// (<see cref="TrackedObjectPoolProvider"/> has the rules). Set a name when several hosts share a process, so each
    /// keeps the same one from run to run.</para>
    /// <para>When <see cref="TrackedObjectPoolOptions.MeterFactory"/> is left null and the container has an
    /// <see cref="IMeterFactory"/> (e.g. from <c>AddMetrics()</c>), the pools' instruments are created on that factory's meter.</para>
    /// </remarks>
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

    private static void AddOptions(IServiceCollection services, string name, Action<BoundedMemoryCacheOptions> configure)
    {
        services.AddOptions<BoundedMemoryCacheOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BoundedMemoryCacheOptions>, BoundedMemoryCacheOptionsValidator>());
    }
}
