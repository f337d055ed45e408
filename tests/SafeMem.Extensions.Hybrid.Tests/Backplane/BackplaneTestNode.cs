using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Caching;
using SafeMem.Extensions.Hybrid.Tests.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.Backplane;

/// <summary>
/// One node in one process: HybridCache over a bounded L1 and a shared in-memory "Redis" (a
/// <see cref="ScriptedDistributedCache"/>), registered with <c>AddSafeMemHybridCache(...).AddSafeMemRedisBackplane(...)</c>
/// over an <see cref="InMemoryBackplaneBus"/>, with probes driven by the test (<see cref="Tick"/>) on a fake clock.
/// </summary>
internal sealed class BackplaneTestNode : IDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan TrustWhileDisconnected = TimeSpan.FromSeconds(5);

    private readonly ServiceProvider _provider;

    private BackplaneTestNode(ServiceProvider provider, Func<InMemoryBackplaneBus.Transport> transport)
    {
        _provider = provider;
        Cache = provider.GetRequiredService<HybridCache>();
        L1 = provider.GetRequiredService<BoundedMemoryCache>();
        L2 = (ResilientDistributedCache)provider.GetRequiredKeyedService<IDistributedCache>(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey);
        Backplane = provider.GetRequiredService<RedisBackplane>();
        Transport = transport();
    }

    public HybridCache Cache { get; }

    public BoundedMemoryCache L1 { get; }

    public ResilientDistributedCache L2 { get; }

    public RedisBackplane Backplane { get; }

    public InMemoryBackplaneBus.Transport Transport { get; }

    public string ProbeChannel => Backplane.Channel + ":" + Backplane.NodeId.ToString("N");

    public static BackplaneTestNode Start(
        InMemoryBackplaneBus bus, ScriptedDistributedCache redis, FakeTimeProvider clock, string name, Action<RedisBackplaneOptions>? configure = null)
    {
        InMemoryBackplaneBus.Transport? transport = null;
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(redis);
        services.AddSafeMemHybridCache(
            o =>
            {
                o.Name = name;
                o.MaximumCount = 1_000;
            },
            d =>
            {
                d.Name = name + "-l2";
                d.Timeout = TimeSpan.FromMinutes(1); // real clock: a busy machine must not turn a call into a timeout
            })
            .AddSafeMemRedisBackplane(o =>
            {
                o.Name = name;
                o.TransportFactory = handler => transport = (InMemoryBackplaneBus.Transport)bus.Connect(handler);
                o.ManualProbes = true;
                o.TimeProvider = clock;
                o.ProbeInterval = ProbeInterval;
                o.DisconnectedLocalCacheExpiration = TrustWhileDisconnected;
                configure?.Invoke(o);
            });
        var node = new BackplaneTestNode(services.BuildServiceProvider(), () => transport!);
        node.Tick(); // subscribes and hears its first probe at once over the in-memory bus

        // Background work the start began, let finish so that it does not count among a test's calls to Redis or land in
        // the middle of its steps: HybridCache, when built, reads the "*" tag's record; a read that overlapped the node's
        // first hearing (which drops the L1 and marks every key changed) is repeated. The backplane learns the tag when
        // that read is over. Hearing for the first time, the node also re-reads the tags it knew by then (recovery).
        Assert.True(
            SpinWait.SpinUntil(() => node.Backplane.KnowsTag("*") && !node.Backplane.IsRecovering, TimeSpan.FromSeconds(20)),
            $"The node did not settle within 20 s: knows \"*\" {node.Backplane.KnowsTag("*")}, recovering {node.Backplane.IsRecovering}.");
        return node;
    }

    /// <summary>One probe period.</summary>
    public void Tick() => Backplane.Tick();

    /// <summary>Reads <paramref name="key"/>; a miss everywhere makes <paramref name="factoryValue"/>.</summary>
    public ValueTask<string> GetAsync(string key, string factoryValue, string[]? tags = null)
        => Cache.GetOrCreateAsync(key, factoryValue, static (value, _) => ValueTask.FromResult(value), tags: tags);

    public bool HasLocal(string key) => L1.TryGetValue(key, out _);

    public void Dispose() => _provider.Dispose();
}
