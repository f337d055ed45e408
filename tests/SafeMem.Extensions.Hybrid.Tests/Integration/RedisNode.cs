using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using SafeMem.Extensions.Caching;
using SafeMem.Extensions.Hybrid.Tests.Caching;
using SafeMem.Extensions.Hybrid.Tests.Docs;
using SafeMem.Extensions.Hybrid.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Integration;

/// <summary>
/// One application node: its own service provider (and so its own L1, Redis connection, circuit breaker and meter),
/// registered exactly as docs/scaling-out.md recommends, with only the L1's name and bound, a shorter circuit break
/// (1 s, to keep the tests short) and, unless a test asks for another, a 1 s operation timeout changed on top: on a
/// busy 2-core CI machine a healthy Redis call now and then takes longer than the recommended 50 ms, which would turn
/// a shared read into a factory run and make tests about sharing flaky. The outage tests use the recommended timeout.
/// </summary>
internal sealed class RedisNode : IDisposable
{
    private readonly ServiceProvider _provider;
    private int _factoryRuns;

    private RedisNode(ServiceProvider provider)
    {
        _provider = provider;
        Cache = provider.GetRequiredService<HybridCache>();
        L1 = provider.GetRequiredService<BoundedMemoryCache>();
        L2 = (ResilientDistributedCache)provider.GetRequiredKeyedService<IDistributedCache>(SafeMemHybridCacheServiceCollectionExtensions.DistributedCacheServiceKey);
    }

    public HybridCache Cache { get; }

    public BoundedMemoryCache L1 { get; }

    public ResilientDistributedCache L2 { get; }

    /// <summary>How often this node's factory ran (a value it could not find in its L1 or in Redis).</summary>
    public int FactoryRuns => Volatile.Read(ref _factoryRuns);

    /// <summary>Builds the node and waits until its Redis connection answers (so connecting is not part of the test).</summary>
    public static async Task<RedisNode> StartAsync(
        RedisServer redis, string name, long maximumWeight, Action<IServiceCollection>? configure = null, TimeSpan? timeout = null)
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        ScalingOutSnippets.Recommended(services, redis.EndPoint);
        services.Configure<BoundedMemoryCacheOptions>(o =>
        {
            o.Name = name;
            o.MaximumWeight = maximumWeight;
        });
        services.Configure<ResilientDistributedCacheOptions>(o =>
        {
            o.BreakDuration = TimeSpan.FromSeconds(1);
            o.Timeout = timeout ?? TimeSpan.FromSeconds(1);
        });
        configure?.Invoke(services);
        var node = new RedisNode(services.BuildServiceProvider());
        if (redis.IsRunning)
        {
            await node.WaitForRedisAsync();
        }

        return node;
    }

    /// <summary>Waits until a read through this node's resilient L2 succeeds (connected, circuit closed).</summary>
    public async Task<TimeSpan> WaitForRedisAsync(TimeSpan? limit = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await L2.GetAsync("wait-for-redis");
                return clock.Elapsed;
            }
            catch (Exception) when (clock.Elapsed < (limit ?? TimeSpan.FromSeconds(30)))
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Waits until no operation of this node's L2 wrapper is in flight (HybridCache's background writes have landed), twice 20 ms apart.</summary>
    public async Task WaitForL2IdleAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int idle = 0; idle < 2; idle = L2.GetStatistics().OperationsInFlight == 0 ? idle + 1 : 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{L2.GetStatistics().OperationsInFlight} L2 operations were still in flight after 30 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>Reads <paramref name="key"/>'s payload through HybridCache (running the factory on a miss) and checks it.</summary>
    public async Task<byte[]> GetAsync(string key, int length, IEnumerable<string>? tags = null)
    {
        byte[] value = await Cache.GetOrCreateAsync(
            key,
            (Node: this, Key: key, Length: length),
            static (state, _) =>
            {
                Interlocked.Increment(ref state.Node._factoryRuns);
                return ValueTask.FromResult(Payloads.For(state.Key, state.Length));
            },
            tags: tags);
        Payloads.Verify(key, value, length);
        return value;
    }

    public void Dispose() => _provider.Dispose();
}
