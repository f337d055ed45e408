using System.Runtime.CompilerServices;
using SafeMem.Pooling;
using SafeMem.Tests.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Pooling;

[Collection(StressCollection.Name)]
public sealed class TrackedObjectPoolStressTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.25)]
    [InlineData(1.0)]
    public void ConcurrentRentReturnAndLeak_CountsBalance(double samplingRate)
    {
        using var pool = new TrackedObjectPool<PooledThing>(
            new ThingPolicy(),
            new TrackedObjectPoolOptions { SamplingRate = samplingRate, MaximumRetained = 8 });
        long leakedByTest = 0;
        var held = new System.Collections.Concurrent.ConcurrentBag<PooledThing>();

        StressRunner.Run(4, thread =>
        {
            var random = new Random(thread);
            for (int i = 0; i < 20_000; i++)
            {
                int action = random.Next(100);
                if (action < 97)
                {
                    PooledThing a = pool.Get();
                    PooledThing b = pool.Get();
                    Assert.NotSame(a, b);
                    pool.Return(b);
                    pool.Return(a);
                }
                else if (action < 99)
                {
                    RentAndDrop(pool);
                    Interlocked.Increment(ref leakedByTest);
                }
                else
                {
                    held.Add(pool.Get());
                }
            }
        });

        PoolStatistics statistics = pool.GetStatistics();
        Assert.Equal(statistics.Rentals, statistics.Returns + statistics.Leaks + statistics.OutstandingCount);
        Assert.Equal(0, statistics.InvalidReturns);
        Assert.Equal(held.Count + leakedByTest, statistics.OutstandingCount + statistics.Leaks);

        if (samplingRate == 1.0)
        {
            using var recorder = new LeakRecorder(pool.LeakTracker!);
            recorder.CollectUntil((int)leakedByTest, attempts: 40);
            for (int i = 0; i < 40 && pool.GetStatistics().Leaks < leakedByTest; i++)
            {
                GcAssert.FullCollect();
                Thread.Sleep(20);
            }

            Assert.Equal(leakedByTest, pool.GetStatistics().Leaks);
            Assert.Equal(held.Count, pool.GetStatistics().OutstandingCount);
        }

        GC.KeepAlive(held);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndDrop(TrackedObjectPool<PooledThing> pool) => _ = pool.Get();
}
