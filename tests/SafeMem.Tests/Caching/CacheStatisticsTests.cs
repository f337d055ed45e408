using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public sealed class CacheStatisticsTests
{
    [Fact]
    public void Lookups_AndHitRatio_DerivedFromHitsAndMisses()
    {
        var statistics = new CacheStatistics { Name = "s", Hits = 3, Misses = 1 };

        Assert.Equal(4, statistics.Lookups);
        Assert.Equal(0.75, statistics.HitRatio);
    }

    [Fact]
    public void HitRatio_NoLookups_IsZero()
        => Assert.Equal(0, new CacheStatistics { Name = "s" }.HitRatio);
}
