using SafeMem.Diagnostics;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Diagnostics;

[Collection(StressCollection.Name)]
public sealed class LeakWatcherStressTests
{
    [Fact]
    public void Watch_FromEightThreadsWhileCollectionsJudge_KeepsEveryCountExact()
    {
        const int Threads = 8;
        const int PerThread = 4_000;
        const int SharedCount = (PerThread + 63) / 64;
        using var watcher = new LeakWatcher(new LeakWatcherOptions { Name = "stress", MaximumRetained = Threads * PerThread });
        int reports = 0;
        watcher.Retained += (_, _) => Interlocked.Increment(ref reports);

        // Objects every thread watches too: one record each, whichever thread gets there first.
        object[] shared = Enumerable.Range(0, SharedCount).Select(_ => new object()).ToArray();
        var kept = new List<object>[Threads];
        var snapshots = new List<LeakWatcherStatistics>();
        StressRunner.Run(Threads, thread =>
        {
            var mine = kept[thread] = [];
            for (int i = 0; i < PerThread; i++)
            {
                var target = new byte[16];
                if (i % 2 == 0)
                {
                    mine.Add(target); // survives: retained
                }

                Assert.True(watcher.Watch(target, "stress"));
                if (i % 64 == 0)
                {
                    watcher.Watch(shared[i / 64], "shared");
                }

                if (thread == 0 && i % 500 == 0)
                {
                    // Judging runs on the pool while the other threads keep watching.
                    GC.Collect();
                    lock (snapshots)
                    {
                        snapshots.Add(watcher.GetStatistics());
                    }
                }
            }
        });

        Assert.True(WatcherHarness.CollectUntil(watcher, s => s.Pending == 0, rounds: 12));

        LeakWatcherStatistics end = watcher.GetStatistics();
        int keptCount = kept.Sum(k => k.Count);
        long sharedWatches = Threads * SharedCount;
        Assert.Equal(Threads * PerThread + shared.Length, end.Watched);
        Assert.Equal(keptCount + shared.Length, end.Retained);
        Assert.Equal((Threads * PerThread) - keptCount, end.Collected);
        Assert.Equal(sharedWatches - shared.Length, end.DuplicateWatches);
        Assert.Equal(end.Retained, end.RetainedAlive);
        Assert.Equal(end.Retained, Volatile.Read(ref reports));
        Assert.All(snapshots, s => Assert.Equal(s.Watched, s.Collected + s.Retained + s.Pending));
        Assert.All(kept.SelectMany(k => k), o => Assert.True(watcher.IsWatched(o)));
        GC.KeepAlive(kept);
        GC.KeepAlive(shared);
    }
}
