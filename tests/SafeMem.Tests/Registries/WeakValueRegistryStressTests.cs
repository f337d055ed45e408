using SafeMem.Registries;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

[Collection(StressCollection.Name)]
public sealed class WeakValueRegistryStressTests
{
    [Fact]
    public void GetOrAdd_ManyThreadsWithHeldValues_OneInstancePerKeyAndOneFactoryRunPerKey()
    {
        var registry = new WeakValueRegistry<int, Entry>("stress");
        const int Keys = 256;
        var seen = new Entry?[Keys];
        int factoryRuns = 0;

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1), (_, random) =>
        {
            int key = random.Next(Keys);
            Entry entry = registry.GetOrAdd(key, k => { Interlocked.Increment(ref factoryRuns); return new Entry(k); });
            // The first instance returned for a key is held here, so it stays alive: every later caller must get it.
            Entry first = Interlocked.CompareExchange(ref seen[key], entry, null) ?? entry;
            Assert.Same(first, entry);
        });

        int created = seen.Count(e => e is not null);
        Assert.Equal(created, factoryRuns);
        Assert.Equal(created, registry.Count);
        Assert.Equal(new RegistryStatistics { Count = created, Additions = created }, registry.GetStatistics());
    }

    [Fact]
    public void MixedOperations_ValuesDyingAndPurgesRunning_CountersStayConsistentAndMapShrinks()
    {
        var registry = new WeakValueRegistry<int, Entry>("churn");
        const int Keys = 128;
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                Thread.Sleep(5);
            }
        })
        {
            IsBackground = true,
        };
        collector.Start();

        StressRunner.RunFor(3, TimeSpan.FromSeconds(1.5), (_, random) =>
        {
            int key = random.Next(Keys);
            switch (random.Next(8))
            {
                case 0:
                    registry.Remove(key);
                    break;
                case 1:
                    registry.TryAdd(key, new Entry(key));
                    break;
                case 2:
                    registry.Purge();
                    break;
                case 3:
                    foreach (KeyValuePair<int, Entry> pair in registry)
                    {
                        Assert.Equal(pair.Key, pair.Value.Key);
                    }

                    break;
                case 4:
                    if (registry.TryGet(key, out Entry? found))
                    {
                        Assert.Equal(key, found.Key);
                    }

                    break;
                default:
                    Assert.Equal(key, registry.GetOrAdd(key, static k => new Entry(k)).Key);
                    break;
            }
        });
        stop.Cancel();
        collector.Join();

        // Every value was dropped by the threads: after a full collection nothing is live, every addition is
        // accounted for as removed or reclaimed, and a purge empties the map.
        // The stress threads have exited, but a thread's last values can stay reachable until its teardown finishes:
        // collect until nothing is live, within a bounded number of tries (as GcAssert.TryCollect does).
        for (int attempt = 0; attempt < 10 && registry.Count > 0; attempt++)
        {
            GcAssert.FullCollect();
            Thread.Sleep(10 * attempt);
        }

        registry.Purge();
        RegistryStatistics statistics = registry.GetStatistics();
        Assert.Equal(0, statistics.Count);
        Assert.Equal(statistics.Additions, statistics.Removals + statistics.Reclamations);
        Assert.Equal(0, registry.SlotCount);
    }

    private sealed record Entry(int Key);
}
