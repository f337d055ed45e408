using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SafeMem.Extensions.Caching;
using SafeMem.Extensions.Hybrid.Tests.Caching;
using SafeMem.Extensions.Hybrid.Tests.Infrastructure;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Integration;

/// <summary>
/// Two nodes (two service providers, each with its own L1, Redis connection and meter) over one real redis-server:
/// what they share, what each keeps, what each publishes, and what another node may serve after a removal.
/// </summary>
[Trait("Category", RedisServer.Category)]
public sealed class HybridCacheOverRedisTests
{
    private const int Bound = 200_000;
    private const int ValueSize = 1_000;

    [Fact]
    public async Task TenTimesTheBoundWrittenThroughA_IsReadByBFromRedis_AndEachL1StaysWithinItsBound()
    {
        using var redis = new RedisServer();
        using RedisNode a = await RedisNode.StartAsync(redis, "node-a", Bound);
        using RedisNode b = await RedisNode.StartAsync(redis, "node-b", Bound);

        // 2,000 values of 1 KB: ten times each L1's 200,000-byte bound.
        for (int i = 0; i < 2_000; i++)
        {
            await a.GetAsync(Payloads.Key(i), ValueSize);
        }

        // A writes each value to Redis in the background, after its factory's value was returned: B must not read
        // before the writes have landed, or it runs its factory for a value A has not shared yet.
        for (int i = 0; i < 2_000; i++)
        {
            string key = Payloads.Key(i);
            await WaitUntilAsync(async () => await a.L2.InnerCache.GetAsync(key) is not null);
        }

        for (int i = 0; i < 2_000; i++)
        {
            await b.GetAsync(Payloads.Key(i), ValueSize);
        }

        Assert.Equal(2_000, a.FactoryRuns);
        Assert.Equal(0, b.FactoryRuns);
        foreach (RedisNode node in new[] { a, b })
        {
            Assert.InRange(node.L1.Weight, Bound - ValueSize, Bound);
            Assert.Equal(Bound / ValueSize, node.L1.Count);
            Assert.Equal(2_000 - (Bound / ValueSize), node.L1.GetStatistics().Evictions);
        }
    }

    [Fact]
    public async Task EachNodesL1_IsPublishedUnderItsOwnName_OnItsOwnMeter()
    {
        string nameA = "node-a-" + Guid.NewGuid().ToString("N"), nameB = "node-b-" + Guid.NewGuid().ToString("N");
        using var recorder = new MetricRecorder(SafeMemMetrics.MeterName);
        using var redis = new RedisServer();
        using RedisNode a = await RedisNode.StartAsync(redis, nameA, Bound);
        using RedisNode b = await RedisNode.StartAsync(redis, nameB, Bound);

        for (int i = 0; i < 300; i++)
        {
            await a.GetAsync(Payloads.Key(i), ValueSize);
        }

        for (int i = 0; i < 50; i++)
        {
            await b.GetAsync(Payloads.Key(i), ValueSize);
        }

        IReadOnlyList<RecordedMeasurement> measured = recorder.Observe();
        RecordedMeasurement countA = Assert.Single(measured, m => m.Matches("safemem.cache.entry.count", nameA));
        RecordedMeasurement countB = Assert.Single(measured, m => m.Matches("safemem.cache.entry.count", nameB));
        Assert.Equal(a.L1.Count, countA.Value);
        Assert.Equal(50, countB.Value);
        Assert.Equal(a.L1.Weight, Assert.Single(measured, m => m.Matches("safemem.cache.weight", nameA)).Value);
        Assert.Equal(Bound, Assert.Single(measured, m => m.Matches("safemem.cache.weight.limit", nameB)).Value);
        Assert.Equal(100, Assert.Single(measured, m => m.Matches("safemem.cache.removals", nameA, (SafeMemTags.CacheRemovalReason, "evicted"))).Value);

        // Each provider's IMeterFactory made its own SafeMem meter: an exporter per process sees its node only.
        Assert.NotSame(countA.Instrument.Meter, countB.Instrument.Meter);
    }

    [Fact]
    public async Task RemoveAsync_OnA_BServesItsL1CopyUntilItsLocalCacheExpiration_ThenTheNewValue()
    {
        var l1Clock = new FakeTimeProvider();
        using var redis = new RedisServer();
        using RedisNode a = await RedisNode.StartAsync(redis, "node-a", Bound, s => s.Configure<BoundedMemoryCacheOptions>(o => o.TimeProvider = l1Clock));
        using RedisNode b = await RedisNode.StartAsync(redis, "node-b", Bound, s => s.Configure<BoundedMemoryCacheOptions>(o => o.TimeProvider = l1Clock));
        string version = "v1";

        Assert.Equal("v1", await a.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult(version)));

        // A writes v1 to Redis in the background: B must read it there, or B's factory runs and B's own background
        // write of v1 may land after A's removal below.
        await WaitUntilAsync(async () => await a.L2.InnerCache.GetAsync("price") is not null);
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult("not from Redis")));
        version = "v2";
        await a.Cache.RemoveAsync("price");

        Assert.Equal("v2", await a.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult(version)));
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult(version)));
        await WaitUntilAsync(async () => await a.L2.InnerCache.GetAsync("price") is not null); // A writes Redis in the background

        // The recommended LocalCacheExpiration is one minute: after it, B's L1 copy is gone, and B finds A's new value.
        l1Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult(version)));
        l1Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("v2", await b.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult("not from Redis")));
    }

    [Fact]
    public async Task RemoveByTagAsync_OnA_NodesThatHadLookedTheTagUp_KeepServingTheOldCopy_UntilSomeoneRewritesIt()
    {
        var l1Clock = new FakeTimeProvider();
        using var redis = new RedisServer();
        using RedisNode a = await RedisNode.StartAsync(redis, "node-a", Bound, s => s.Configure<BoundedMemoryCacheOptions>(o => o.TimeProvider = l1Clock));
        using RedisNode b = await RedisNode.StartAsync(redis, "node-b", Bound, s => s.Configure<BoundedMemoryCacheOptions>(o => o.TimeProvider = l1Clock));
        using RedisNode c = await RedisNode.StartAsync(redis, "node-c", Bound, s => s.Configure<BoundedMemoryCacheOptions>(o => o.TimeProvider = l1Clock));
        string[] tags = ["prices"];
        string version = "v1";
        ValueTask<string> Read(RedisNode node) => node.Cache.GetOrCreateAsync("price", _ => ValueTask.FromResult(version), tags: tags);

        Assert.Equal("v1", await Read(a));
        await WaitUntilAsync(async () => await a.L2.InnerCache.GetAsync("price") is not null); // A writes Redis in the background
        Assert.Equal("v1", await Read(b));
        version = "v2";
        await a.Cache.RemoveByTagAsync("prices");

        // B looked the tag up when it first read the entry, and a HybridCache node keeps its answer for a tag: B goes
        // on serving v1 from its L1, and once that copy has expired, from Redis, where RemoveByTagAsync left the entry.
        Assert.Equal("v1", await Read(b));
        l1Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("v1", await Read(b));

        // C had never looked the tag up: it reads the invalidation from Redis, rejects Redis's older copy, runs its
        // factory and writes v2 to Redis; that is what finally reaches B once B's L1 copy expires.
        byte[]? before = await c.L2.GetAsync("price");
        Assert.Equal("v2", await Read(c));
        Assert.Equal("v1", await Read(b));
        await WaitUntilAsync(async () => !(await c.L2.GetAsync("price")).AsSpan().SequenceEqual(before)); // C writes Redis in the background
        l1Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("v2", await Read(b));
        Assert.Equal("v2", await Read(a));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; !await condition(); i++)
        {
            Assert.True(i < 200, "The condition did not hold within 10 s.");
            await Task.Delay(50);
        }
    }
}
