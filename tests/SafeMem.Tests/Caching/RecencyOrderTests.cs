using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

/// <summary>
/// Drives <see cref="RecencyOrder{TKey, TValue}"/> (and the heap under it) with random adds, removals, hits and
/// evictions on one thread, and checks every answer against the node with the oldest stamp.
/// </summary>
public sealed class RecencyOrderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LeastRecent_RandomOperations_IsAlwaysTheOldestStamp(int seed)
    {
        var random = new Random(seed);
        var clock = new RecencyClock();
        var order = new RecencyOrder<int, int>();
        var held = new List<CacheNode<int, int>>();
        int nextKey = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int action = random.Next(100);
            if (action < 30 || held.Count == 0)
            {
                var node = new CacheNode<int, int>(nextKey, nextKey, nextKey) { Stamp = clock.Write() };
                nextKey++;
                order.Add(node);
                held.Add(node);
            }
            else if (action < 75)
            {
                held[random.Next(held.Count)].Stamp = clock.Hit();
            }
            else if (action < 85)
            {
                CacheNode<int, int> node = held[random.Next(held.Count)];
                order.Remove(node);
                held.Remove(node);
                Assert.False(node.IsLinked);
            }
            else
            {
                CacheNode<int, int> expected = held.MinBy(n => n.Stamp)!;
                Assert.Same(expected, order.LeastRecent());
                if (random.Next(2) == 0)
                {
                    order.Remove(expected);
                    held.Remove(expected);
                }
            }

            Assert.Equal(held.Count, order.Count);
            if (step % 500 == 0)
            {
                Assert.Null(order.FindInconsistency());
                Assert.All(held, node => Assert.True(order.Holds(node)));
            }
        }

        Assert.Null(order.FindInconsistency());
    }

    [Fact]
    public void LeastRecent_AfterEveryEntryWasRead_RebuildsAndStaysExact()
    {
        // Every node is read after being written, so the first eviction re-keys far more roots than its budget and
        // rebuilds the heap on the way; the answers must not change.
        var clock = new RecencyClock();
        var order = new RecencyOrder<int, int>();
        var nodes = new List<CacheNode<int, int>>();
        for (int i = 0; i < 5000; i++)
        {
            var node = new CacheNode<int, int>(i, i, i) { Stamp = clock.Write() };
            order.Add(node);
            nodes.Add(node);
        }

        // Two read passes: the first moves every node into the heap on the way to a victim, the second makes all of
        // their heap keys stale at once.
        foreach (CacheNode<int, int> node in nodes)
        {
            node.Stamp = clock.Hit();
        }

        Assert.Same(nodes[0], order.LeastRecent());
        var random = new Random(9);
        foreach (CacheNode<int, int> node in nodes.OrderBy(_ => random.Next()))
        {
            node.Stamp = clock.Hit();
        }

        foreach (CacheNode<int, int> expected in nodes.OrderBy(n => n.Stamp))
        {
            Assert.Same(expected, order.LeastRecent());
            order.Remove(expected);
        }

        Assert.Equal(0, order.Count);
        Assert.Null(order.LeastRecent());
        Assert.Null(order.FindInconsistency());
    }

    [Fact]
    public void Clear_MarksEveryNodeAsLeft()
    {
        var clock = new RecencyClock();
        var order = new RecencyOrder<int, int>();
        var nodes = Enumerable.Range(0, 100).Select(i => new CacheNode<int, int>(i, i, i) { Stamp = clock.Write() }).ToList();
        nodes.ForEach(order.Add);
        nodes.Take(50).ToList().ForEach(n => n.Stamp = clock.Hit());
        Assert.Same(nodes[50], order.LeastRecent());

        order.Clear();

        Assert.Equal(0, order.Count);
        Assert.All(nodes, node => Assert.False(node.IsLinked));
        Assert.Null(order.FindInconsistency());
    }
}
