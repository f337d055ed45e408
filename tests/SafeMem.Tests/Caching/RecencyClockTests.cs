using SafeMem.Caching;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

[Collection(StressCollection.Name)]
public sealed class RecencyClockTests
{
    [Fact]
    public void Hit_OneThread_StampsStrictlyIncreaseAcrossHitsAndWrites()
    {
        var clock = new RecencyClock();
        long previous = clock.Write();
        var random = new Random(5);
        for (int i = 0; i < 10_000; i++)
        {
            long stamp = random.Next(4) == 0 ? clock.Write() : clock.Hit();
            Assert.True(RecencyClock.IsOlder(previous, stamp), $"step {i}: {stamp} is not newer than {previous}");
            previous = stamp;
        }
    }

    [Fact]
    public void Hit_And_Write_StampsTellWritesFromHits()
    {
        var clock = new RecencyClock();
        Assert.Equal(0, clock.Write() & RecencyClock.SequenceMask);
        Assert.NotEqual(0, clock.Hit() & RecencyClock.SequenceMask);
        Assert.NotEqual(0, clock.Hit() & RecencyClock.SequenceMask);
        Assert.Equal(0, clock.Write() & RecencyClock.SequenceMask);
    }

    [Fact]
    public void Hit_MoreHitsThanOneEpochHolds_StampsStillIncrease()
    {
        var clock = new RecencyClock();
        long previous = clock.Write();
        for (long i = 0; i < RecencyClock.SequenceMask + 10; i++)
        {
            long stamp = clock.Hit();
            Assert.True(RecencyClock.IsOlder(previous, stamp));
            Assert.NotEqual(0, stamp & RecencyClock.SequenceMask);
            previous = stamp;
        }

        Assert.True(RecencyClock.IsOlder(previous, clock.Write()));
        Assert.Equal(RecencyClock.SequenceMask + 10, clock.Hits);
    }

    [Fact]
    public void IsOlder_AcrossWrapAround_ComparesByDifference()
    {
        Assert.True(RecencyClock.IsOlder(long.MaxValue - 5, long.MinValue + 5));
        Assert.False(RecencyClock.IsOlder(long.MinValue + 5, long.MaxValue - 5));
        Assert.False(RecencyClock.IsOlder(42, 42));
    }

    [Fact]
    public void Hits_ManyThreads_CountsEveryHitExactly()
    {
        // More threads than the slot array first holds: it grows while the others keep counting through the old one.
        const int Threads = 40;
        const int HitsPerThread = 20_000;
        var clock = new RecencyClock();
        StressRunner.Run(Threads, thread =>
        {
            for (int i = 0; i < HitsPerThread; i++)
            {
                clock.Hit();
                if (i % 1000 == 0 && thread == 0)
                {
                    // Writers move the epoch under the policy lock; one writer thread is enough to mix epochs in.
                    lock (clock)
                    {
                        clock.Write();
                    }
                }
            }
        });

        Assert.Equal((long)Threads * HitsPerThread, clock.Hits);
    }
}
