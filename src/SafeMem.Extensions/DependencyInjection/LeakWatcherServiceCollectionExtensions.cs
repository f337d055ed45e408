using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using SafeMem.Diagnostics;
using SafeMem.Extensions.Diagnostics;

// The namespace of IServiceCollection, as for SafeMemServiceCollectionExtensions (see there).
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers SafeMem's <see cref="LeakWatcher"/> in an <see cref="IServiceCollection"/>.</summary>
/// <remarks>
/// The watcher is a singleton owned by the container, disposed with it. Registration holds the configure delegate and,
/// with <see cref="LeakWatcherServiceOptions.WatchScopedServices"/>, re-registers the scoped services (see there for
/// exactly which instances are covered). Like every <see cref="IServiceCollection"/> call, not thread-safe.
/// </remarks>
public static class LeakWatcherServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="LeakWatcher"/> as a singleton (resolvable as <see cref="LeakWatcher"/>) and, when
    /// <see cref="LeakWatcherServiceOptions.WatchScopedServices"/> is set, watches the scoped services each scope
    /// resolved once the scope is disposed: the captive dependency (a scoped service kept by a singleton or a static)
    /// and a request's objects kept past its request are then reported.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the watcher's options, or null for the defaults. Run once by this call (to read
    /// <see cref="LeakWatcherServiceOptions.WatchScopedServices"/>) and again when the options are built.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>
    /// <para>Call it after registering your own services: only the scoped registrations present now are watched.</para>
    /// <para>When <see cref="LeakWatcherOptions.MeterFactory"/> is left null and the container has an
    /// <see cref="IMeterFactory"/> (e.g. from <c>AddMetrics()</c>), the watcher's instruments are created on that
    /// factory's meter. Options are validated at startup (<c>ValidateOnStart</c>).</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>AddSafeMemLeakWatcher</c> was already called on <paramref name="services"/>.</exception>
    public static IServiceCollection AddSafeMemLeakWatcher(this IServiceCollection services, Action<LeakWatcherServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(static d => d.ServiceType == typeof(LeakWatcher) && !d.IsKeyedService))
        {
            throw new InvalidOperationException(
                "AddSafeMemLeakWatcher was already called: the application has one LeakWatcher, and a second call would watch every scoped service twice. "
                + "To change its options from elsewhere, call services.Configure<LeakWatcherServiceOptions>(...).");
        }

        // Read now: it decides how the registrations already in the collection are registered.
        var decided = new LeakWatcherServiceOptions();
        configure?.Invoke(decided);
        bool watchScoped = decided.WatchScopedServices;

        OptionsBuilder<LeakWatcherServiceOptions> options = services.AddOptions<LeakWatcherServiceOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(
                o => o.WatchScopedServices == watchScoped,
                $"LeakWatcherServiceOptions.WatchScopedServices is read when AddSafeMemLeakWatcher runs (it was {watchScoped.ToString().ToLowerInvariant()} then); set it in that call's configure delegate, not later.")
            .ValidateOnStart();
        services.AddSingleton(static provider => new LeakWatcher(
            name: null,
            provider.GetRequiredService<IOptions<LeakWatcherServiceOptions>>().Value,
            provider.GetService<IMeterFactory>()));
        if (watchScoped)
        {
            ScopedServiceWatching.Decorate(services);
        }

        return services;
    }
}
