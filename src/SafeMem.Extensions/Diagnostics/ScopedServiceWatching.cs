using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Disposal;

namespace SafeMem.Extensions.Diagnostics;

/// <summary>
/// Re-registers the scoped services of a collection so that each instance a scope creates is recorded in that scope's
/// <see cref="ScopeResolutions"/> and watched when the scope is disposed.
/// </summary>
/// <remarks>
/// <para>
/// Why re-registration: the container offers no hook on resolution, and its <c>IServiceScopeFactory</c> (which ASP.NET
/// Core creates request scopes with) is built in and cannot be replaced. A factory registration can wrap creation, but
/// cannot ask the container to build the original implementation type for it (a keyed copy of the registration would
/// build it, and the container would then dispose the instance twice, once per registration). So the factory builds
/// the instance itself with <see cref="ActivatorUtilities"/>, which chooses constructors as the container does.
/// </para>
/// <para>Not thread-safe (it edits the collection), like every <see cref="IServiceCollection"/> call.</para>
/// </remarks>
internal static class ScopedServiceWatching
{
    /// <summary>Re-registers every covered scoped service; returns how many.</summary>
    public static int Decorate(IServiceCollection services)
    {
        int decorated = 0;
        for (int i = 0; i < services.Count; i++)
        {
            ServiceDescriptor descriptor = services[i];
            if (descriptor.Lifetime != ServiceLifetime.Scoped || descriptor.IsKeyedService || descriptor.ServiceType.IsGenericTypeDefinition)
            {
                continue;
            }

            Func<IServiceProvider, object> create = descriptor.ImplementationFactory ?? new Activation(descriptor.ImplementationType!).Create;
            string description = $"scoped service {TypeNames.Of(descriptor.ServiceType)}, resolved in a scope that was disposed";
            services[i] = new ServiceDescriptor(descriptor.ServiceType, provider => Resolve(provider, create, description), ServiceLifetime.Scoped);
            decorated++;
        }

        services.Add(ServiceDescriptor.Scoped(static provider => new ScopeResolutions(provider.GetRequiredService<SafeMem.Diagnostics.LeakWatcher>())));
        return decorated;
    }

    private static object Resolve(IServiceProvider provider, Func<IServiceProvider, object> create, string description)
    {
        object instance = create(provider);

        // A factory may return a boxed value: a copy that no scope owns, so there is nothing to watch.
        if (!instance.GetType().IsValueType)
        {
            provider.GetRequiredService<ScopeResolutions>().Add(instance, description);
        }

        return instance;
    }

    /// <summary>Builds one implementation type, compiling its factory on first use (not at registration, for startup's sake).</summary>
    private sealed class Activation([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type type)
    {
        private ObjectFactory? _factory;

        public object Create(IServiceProvider provider)
        {
            ObjectFactory? factory = Volatile.Read(ref _factory);
            if (factory is null)
            {
                // With one public constructor the compiled factory is the container's choice; with several,
                // CreateFactory refuses to pick and CreateInstance picks the longest satisfiable one per call.
                ConstructorInfo[] constructors = type.GetConstructors();
                factory = constructors.Length == 1
                    ? ActivatorUtilities.CreateFactory(type, Type.EmptyTypes)
                    : (services, _) => ActivatorUtilities.CreateInstance(services, type);
                Volatile.Write(ref _factory, factory);
            }

            return factory(provider, null);
        }
    }
}
