using SafeMem.Caching;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

/// <summary>
/// HybridCache over <see cref="BoundedMemoryCache"/> without a distributed cache: how HybridCache sizes its L1 entries,
/// what the bound then covers, and that HybridCache's buffer recycling (driven by the L1's post-eviction callbacks)
/// stays correct when the L1 evicts synchronously.
/// </summary>
public sealed class HybridCacheOnBoundedMemoryCacheTests
{
    [Fact]
    public async Task GetOrCreateAsync_WeighsEachL1EntryByItsSerializedPayload()
    {
        using var node = LocalNode.Create(o => o.MaximumWeight = 1_000_000);

        await node.Cache.GetOrCreateAsync("bytes", _ => ValueTask.FromResult(new byte[1_000]));
        Assert.Equal(1_000, node.L1.Weight);

        // Strings are serialized as UTF-8: 500 ASCII characters weigh 500, though they take about 1 KB of heap.
        await node.Cache.GetOrCreateAsync("text", _ => ValueTask.FromResult(new string('x', 500)));
        Assert.Equal(1_500, node.L1.Weight);
        Assert.Equal(2, node.L1.Count);
    }

    [Theory]
    [InlineData(EvictionPolicy.Lru)]
    [InlineData(EvictionPolicy.TinyLfu)]
    public async Task TenTimesTheBoundOfData_L1StaysWithinItsBound_AndKeepsTheLastWritten(EvictionPolicy policy)
    {
        using var node = LocalNode.Create(o =>
        {
            o.MaximumWeight = 200_000;
            o.EvictionPolicy = policy;
        });

        for (int i = 0; i < 2_000; i++)
        {
            string key = Payloads.Key(i);
            await node.Cache.GetOrCreateAsync(key, key, static (k, _) => ValueTask.FromResult(Payloads.For(k, 1_000)));
        }

        // Every key was read once: the bound holds and the last write is visible under both policies. LRU has long
        // evicted the first; TinyLfu keeps a resident against a candidate used no more than once more (a scan of
        // one-time keys does not flush what it holds), so which of the early keys stay is its choice.
        Assert.InRange(node.L1.Weight, 1, 200_000);
        Assert.Equal(200, node.L1.Count);
        Assert.Equal(1_800, node.L1.GetStatistics().Evictions);
        Assert.True(node.L1.TryGetValue(Payloads.Key(1_999), out _));
        if (policy == EvictionPolicy.Lru)
        {
            Assert.False(node.L1.TryGetValue(Payloads.Key(0), out _));
        }
    }

    [Fact]
    public async Task EmptyPayloads_WeighNothing_SoOnlyACountBoundLimitsThem()
    {
        // An empty string serializes to zero bytes: under a weight bound alone such entries never add up to the
        // bound, and each still holds a key, an entry and HybridCache's item. A count bound covers them.
        using var weightOnly = LocalNode.Create(o => o.MaximumWeight = 1_000);
        using var both = LocalNode.Create(o =>
        {
            o.MaximumWeight = 1_000;
            o.MaximumCount = 100;
        });

        for (int i = 0; i < 1_000; i++)
        {
            await weightOnly.Cache.GetOrCreateAsync(Payloads.Key(i), _ => ValueTask.FromResult(""));
            await both.Cache.GetOrCreateAsync(Payloads.Key(i), _ => ValueTask.FromResult(""));
        }

        Assert.Equal(0, weightOnly.L1.Weight);
        Assert.Equal(1_000, weightOnly.L1.Count);
        Assert.Equal(100, both.L1.Count);
    }

    [Fact]
    public async Task ValuesOverMaximumPayloadBytes_AreKeptUnserialized_AndWeighNothing()
    {
        // HybridCache does not serialize a value over HybridCacheOptions.MaximumPayloadBytes (1 MiB by default) and
        // logs an error, but still keeps it in L1, with size 0: only a count bound limits such entries.
        using var node = LocalNode.Create(o => o.MaximumWeight = 1_000);

        string big = await node.Cache.GetOrCreateAsync("big", _ => ValueTask.FromResult(new string('x', 2_000_000)));

        Assert.Equal(2_000_000, big.Length);
        Assert.Equal(1, node.L1.Count);
        Assert.Equal(0, node.L1.Weight);
    }

    [Fact]
    public async Task RemoveAsync_RemovesTheL1Entry()
    {
        using var node = LocalNode.Create(o => o.MaximumWeight = 10_000);
        await node.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"));

        await node.Cache.RemoveAsync("k");

        Assert.Equal(0, node.L1.Count);
        Assert.Equal("v2", await node.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("v2")));
    }

    [Fact]
    public async Task EntryHeavierThanTheBound_IsNotKept_AndReplacesNoValueWithAStaleOne()
    {
        using var node = LocalNode.Create(o => o.MaximumWeight = 1_000);
        await node.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(new byte[10]));

        await node.Cache.SetAsync("k", new byte[2_000]);

        Assert.Equal(0, node.L1.Count);
        Assert.Equal(2_000, (await node.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(new byte[2_000]))).Length);
    }
}
