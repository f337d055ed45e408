using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

[Collection(StressCollection.Name)]
public sealed class HybridCacheOnBoundedMemoryCacheStressTests
{
    [Theory]
    [InlineData(EvictionPolicy.Lru)]
    [InlineData(EvictionPolicy.TinyLfu)]
    public void ConcurrentReadsAndWrites_WhileTheL1Evicts_EveryValueReadIsIntact(EvictionPolicy policy)
    {
        // Mutable values (byte[]) live in L1 as pooled serialized buffers that HybridCache returns to the pool from
        // the L1's post-eviction callback. A callback run twice, or run while the entry is still readable, would hand
        // a buffer back while it is in use, and another entry's bytes would show up here.
        using var node = LocalNode.Create(o =>
        {
            o.MaximumWeight = 32 * 1_024;
            o.EvictionPolicy = policy;
        });
        long reads = 0;

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1), (thread, random) =>
        {
            int i = random.Next(400);
            string key = Payloads.Key(i);
            if (random.Next(8) == 0)
            {
                node.Cache.SetAsync(key, Payloads.For(key, 200 + i)).AsTask().GetAwaiter().GetResult();
            }
            else
            {
                byte[] value = node.Cache.GetOrCreateAsync(key, (Key: key, Length: 200 + i), static (s, _) => ValueTask.FromResult(Payloads.For(s.Key, s.Length)))
                    .AsTask().GetAwaiter().GetResult();
                Payloads.Verify(key, value, 200 + i);
                Interlocked.Increment(ref reads);
            }
        });

        Assert.True(reads > 0);
        Assert.InRange(node.L1.Weight, 0, 32 * 1_024);
        Assert.True(node.L1.GetStatistics().Evictions > 0);
    }
}
