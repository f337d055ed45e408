using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SafeMem.Extensions.Backplane;
using SafeMem.Extensions.Caching;

namespace SafeMem.Benchmarks.Backplane;

/// <summary>
/// What a write pays for announcing itself on the Redis backplane: <c>HybridCache.SetAsync</c> through the registration
/// <c>AddSafeMemHybridCache</c> makes (bounded L1, the resilient wrapper around an in-memory distributed cache), without
/// and with the backplane; and the backplane's part alone (the wrapper's call into it once the write reached the
/// distributed cache: the message is queued, a sender publishes it later).
/// </summary>
/// <remarks>
/// The backplane publishes over an in-process transport that takes every message at once: the publish is
/// fire-and-forget, so what Redis does with it is not part of the write's cost (docs/scaling-out.md measures delivery
/// between processes). The sender runs on the thread pool meanwhile, as it does in production.
/// </remarks>
[MemoryDiagnoser]
public class BackplanePublishBenchmarks
{
    private const int Keys = 1_000;

    private string[] _keys = null!;
    private ServiceProvider _withoutBackplane = null!;
    private ServiceProvider _withBackplane = null!;
    private HybridCache _plain = null!;
    private HybridCache _announcing = null!;
    private IDistributedCacheObserver _backplane = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _keys = [.. Enumerable.Range(0, Keys).Select(i => "product:" + i)];
        _withoutBackplane = Node(backplane: false);
        _withBackplane = Node(backplane: true);
        _plain = _withoutBackplane.GetRequiredService<HybridCache>();
        _announcing = _withBackplane.GetRequiredService<HybridCache>();
        _backplane = _withBackplane.GetRequiredService<RedisBackplane>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _withoutBackplane.Dispose();
        _withBackplane.Dispose();
    }

    [Benchmark(Baseline = true)]
    public ValueTask SetAsync_WithoutBackplane() => _plain.SetAsync(NextKey(), "value");

    [Benchmark]
    public ValueTask SetAsync_WithBackplane() => _announcing.SetAsync(NextKey(), "value");

    [Benchmark]
    public void Announce_AloneAsTheWrapperCallsIt() => _backplane.OnChanged(NextKey(), default);

    private string NextKey() => _keys[_next++ % Keys];

    private static ServiceProvider Node(bool backplane)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedCache>(new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())));
        IHybridCacheBuilder builder = services.AddSafeMemHybridCache(o =>
        {
            o.Name = backplane ? "with-backplane" : "without-backplane";
            o.MaximumCount = 10 * Keys;
        });
        if (backplane)
        {
            builder.AddSafeMemRedisBackplane(o =>
            {
                o.TransportFactory = static _ => new TakeEverythingTransport();
                o.ManualProbes = true;
            });
        }

        ServiceProvider provider = services.BuildServiceProvider();
        if (provider.GetRequiredService<IMemoryCache>() is not BoundedMemoryCache)
        {
            throw new InvalidOperationException("Not the registration this benchmark measures.");
        }

        return provider;
    }

    private sealed class TakeEverythingTransport : IBackplaneTransport
    {
        public event Action? ConnectionLost
        {
            add { }
            remove { }
        }

        public Task SubscribeAsync(string channel) => Task.CompletedTask;

        public Task PublishAsync(string channel, byte[] message) => Task.CompletedTask;

        public ValueTask DisposeAsync() => default;
    }
}
