using SafeMem.Registries;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

[Collection(StressCollection.Name)]
public sealed class WeakKeyedRegistryStressTests
{
    [Fact]
    public void MixedOperations_ManyThreads_CountersMatchContents()
    {
        var registry = new WeakKeyedRegistry<object, int>("stress-keyed");
        object[] keys = Enumerable.Range(0, 64).Select(_ => new object()).ToArray();

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1), (_, random) =>
        {
            object key = keys[random.Next(keys.Length)];
            switch (random.Next(4))
            {
                case 0:
                    registry.Set(key, random.Next());
                    break;
                case 1:
                    registry.Remove(key);
                    break;
                case 2:
                    registry.GetOrAdd(key, static _ => 1);
                    break;
                default:
                    _ = registry.Count();
                    break;
            }
        });

        RegistryStatistics statistics = registry.GetStatistics();
        Assert.Equal(keys.Count(registry.ContainsKey), statistics.Count);
        Assert.Equal(statistics.Additions - statistics.Removals, statistics.Count);
        GC.KeepAlive(keys);
    }
}
