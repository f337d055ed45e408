using SafeMem.Attachments;
using SafeMem.Internal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Internal;

public sealed class WeakCollectionCountersTests
{
    [Fact]
    public void Read_NoRace_DerivesReclaimedFromAdditionsRemovalsAndLiveCount()
    {
        using var factory = new TestMeterFactory();
        int live = 0;
        var counters = new WeakCollectionCounters<AttachmentKind>(() => live, "t", factory);
        for (int i = 0; i < 5; i++)
        {
            counters.RecordAddition();
        }

        counters.RecordRemoval();
        live = 2;

        Assert.Equal(new WeakCollectionFigures(2, 5, 1, 2), counters.Read());
    }

    [Fact]
    public void Read_LiveCountMomentarilyAhead_ReclaimedNeverGoesBackwards()
    {
        // A walk that races with writers can see an entry the counters do not yet include; the reported figure is a
        // counter, so it must hold its high-water mark instead of dipping.
        using var factory = new TestMeterFactory();
        int live = 1;
        var counters = new WeakCollectionCounters<AttachmentKind>(() => live, "t", factory);
        counters.RecordAddition();
        counters.RecordAddition();
        counters.RecordAddition();
        Assert.Equal(2, counters.Read().Reclamations);

        live = 2;

        Assert.Equal(2, counters.Read().Reclamations);
        live = 0;
        Assert.Equal(3, counters.Read().Reclamations);
    }
}
