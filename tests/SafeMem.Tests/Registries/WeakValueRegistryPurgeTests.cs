using System.Runtime.CompilerServices;
using SafeMem.Registries;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Registries;

/// <summary>
/// The purge on writes, seen alone. The test counts on its values dying in gen-1 collections; a full collection that
/// a parallel test forces while a batch is still referenced promotes that batch to generation 2 (then only the
/// full-collection sweep, on the thread pool, can drop it), so this class runs with no other test beside it.
/// </summary>
[Collection(StressCollection.Name)]
public sealed class WeakValueRegistryPurgeTests
{
    [Fact]
    public void GetOrAdd_ManyDroppedValues_AmortizedPurgeKeepsSlotsProportionalToLiveValues()
    {
        // The premise: only gen-1 collections run while the batches are added. A gen-2 collection the runtime starts on
        // its own meanwhile promotes a batch that only the full-collection sweep can drop; such a run says nothing about
        // the purge on writes, so it is run again (at most three times) with a fresh registry.
        WeakValueRegistry<int, Session> registry;
        int attempt = 0;
        do
        {
            registry = new WeakValueRegistry<int, Session>("t");

            // Promote the registry's full-collection sentinel to generation 2 first; from then on the gen-1 collections
            // below kill the values without running the full-collection sweep, so only the purge on writes is at work.
            GcAssert.FullCollect();
            GcAssert.FullCollect();
            int fullCollections = GC.CollectionCount(2);
            for (int batch = 0; batch < 20; batch++)
            {
                AddDroppedRange(registry, batch * 200, 200);
                GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            }

            if (GC.CollectionCount(2) == fullCollections)
            {
                break;
            }
        }
        while (++attempt < 3);

        // 4,000 keys were added, none of their values is alive: the map holds at most what was added since the last
        // purge (the threshold is twice the slots a purge leaves, at most one batch of 200), not all 4,000.
        Assert.True(registry.SlotCount <= 500, $"{registry.SlotCount} slots held for 0 live values.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddDroppedRange(WeakValueRegistry<int, Session> registry, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            registry.GetOrAdd(start + i, static id => new Session(id));
        }
    }

    private sealed record Session(int Id);
}
