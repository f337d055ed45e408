using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

/// <summary>One service provider with HybridCache over a <see cref="BoundedMemoryCache"/> and no distributed cache.</summary>
internal sealed class LocalNode : IDisposable
{
    private readonly ServiceProvider _provider;

    private LocalNode(ServiceProvider provider)
    {
        _provider = provider;
        Cache = provider.GetRequiredService<HybridCache>();
        L1 = provider.GetRequiredService<BoundedMemoryCache>();
    }

    public HybridCache Cache { get; }

    public BoundedMemoryCache L1 { get; }

    public static LocalNode Create(Action<BoundedMemoryCacheOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddSafeMemHybridCache(configure);
        return new LocalNode(services.BuildServiceProvider());
    }

    public void Dispose() => _provider.Dispose();
}
