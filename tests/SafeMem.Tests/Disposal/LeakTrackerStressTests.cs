using System.Runtime.CompilerServices;
using SafeMem.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Disposal;

[Collection(StressCollection.Name)]
public sealed class LeakTrackerStressTests
{
    [Fact]
    public void ConcurrentTrackCloseAndLeak_TrackedEqualsClosedPlusLeakedPlusLive()
    {
        var tracker = new LeakTracker("stress", new LeakTrackerOptions { SamplingRate = 0.5 });
        using var recorder = new LeakRecorder(tracker);
        long leakedByTest = 0;
        long closedByTest = 0;
        var kept = new System.Collections.Concurrent.ConcurrentBag<object>();

        StressRunner.Run(4, thread =>
        {
            var random = new Random(thread);
            for (int i = 0; i < 20_000; i++)
            {
                int action = random.Next(10);
                if (action < 6)
                {
                    if (TrackAndClose(tracker))
                    {
                        Interlocked.Increment(ref closedByTest);
                    }
                }
                else if (action < 9)
                {
                    if (TrackAndDrop(tracker))
                    {
                        Interlocked.Increment(ref leakedByTest);
                    }
                }
                else
                {
                    var live = new object();
                    _ = tracker.Track(live);
                    kept.Add(live);
                }
            }
        });

        recorder.CollectUntil((int)leakedByTest, attempts: 40);
        LeakTrackerStatistics statistics = tracker.GetStatistics();

        Assert.Equal(statistics.Additions, statistics.Disposals + statistics.Leaks + statistics.ObjectCount);
        Assert.Equal(closedByTest, statistics.Disposals);
        Assert.Equal(leakedByTest, statistics.Leaks);
        Assert.Equal(leakedByTest, recorder.Reports.Count);
        Assert.InRange(statistics.ObjectCount, 1, kept.Count);
        GC.KeepAlive(kept);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TrackAndClose(LeakTracker tracker)
    {
        LeakHandle handle = tracker.Track(new object());
        bool tracked = handle.IsTracking;
        handle.Dispose();
        return tracked;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TrackAndDrop(LeakTracker tracker) => tracker.Track(new object()).IsTracking;
}
