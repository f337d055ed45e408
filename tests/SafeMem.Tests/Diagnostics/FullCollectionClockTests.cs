using SafeMem.Diagnostics;

namespace SafeMem.Tests.Diagnostics;

public sealed class FullCollectionClockTests
{
    [Fact]
    public void DueBefore_IsTheNthNewestCompletedFullCollection()
    {
        var clock = new FullCollectionClock();
        Assert.Equal(0, clock.DueBefore(1));

        Assert.True(clock.Observe(blocking: 10, background: 0));
        Assert.False(clock.Observe(blocking: 10, background: 0)); // nothing new
        Assert.True(clock.Observe(blocking: 10, background: 7)); // a background one that completed after, numbered before

        Assert.Equal(10, clock.DueBefore(1));
        Assert.Equal(7, clock.DueBefore(2));
        Assert.Equal(0, clock.DueBefore(3));
        Assert.Equal(2, clock.CountAfter(6));
        Assert.Equal(1, clock.CountAfter(7));
        Assert.Equal(0, clock.CountAfter(10));
    }

    [Fact]
    public void Observe_RemembersTheNewestCapacityCollections()
    {
        var clock = new FullCollectionClock();
        for (int i = 1; i <= FullCollectionClock.Capacity + 5; i++)
        {
            Assert.True(clock.Observe(blocking: i * 10, background: 0));
        }

        Assert.False(clock.Observe(blocking: 0, background: 15)); // older than everything remembered
        Assert.Equal((FullCollectionClock.Capacity + 5) * 10, clock.DueBefore(1));
        Assert.Equal(60, clock.DueBefore(FullCollectionClock.Capacity));
        Assert.Equal(FullCollectionClock.Capacity, clock.CountAfter(0));
    }

    [Fact]
    public void Now_CountsStartedCollections_AsTheRuntimeNumbersThem()
    {
        long before = FullCollectionClock.Now();
        GC.Collect();

        long index = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;

        Assert.True(index > before, $"collection {index} started after stamp {before}");
        Assert.True(FullCollectionClock.Now() >= index);
    }
}
