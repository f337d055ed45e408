using SafeMem.Registries;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

[Collection(StressCollection.Name)]
public sealed class WeakRegistryStressTests
{
    [Fact]
    public void AddRemoveWhileEnumerating_ManyThreads_EnumerationNeverThrowsAndCountsMatch()
    {
        var registry = new WeakRegistry<object>("stress");
        object[] members = Enumerable.Range(0, 64).Select(_ => new object()).ToArray();
        var known = new HashSet<object>(members, ReferenceEqualityComparer.Instance);

        StressRunner.RunFor(4, TimeSpan.FromSeconds(1), (thread, random) =>
        {
            object member = members[random.Next(members.Length)];
            if (thread == 0)
            {
                // Enumeration while other threads write: no exception, only registered objects, each at most once.
                var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
                foreach (object live in registry)
                {
                    Assert.Contains(live, known);
                    Assert.True(seen.Add(live));
                }
            }
            else if (random.Next(2) == 0)
            {
                registry.Add(member);
            }
            else
            {
                registry.Remove(member);
            }
        });

        int contained = members.Count(registry.Contains);
        RegistryStatistics statistics = registry.GetStatistics();
        Assert.Equal(contained, statistics.Count);
        Assert.Equal(contained, registry.Count());
        Assert.Equal(statistics.Additions - statistics.Removals, statistics.Count);
        Assert.Equal(0, statistics.Reclamations);
    }
}
