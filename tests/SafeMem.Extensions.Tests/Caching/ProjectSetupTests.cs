using Microsoft.Extensions.Caching.Memory;

namespace SafeMem.Extensions.Tests.Caching;

public sealed class ProjectSetupTests
{
    [Fact]
    public void MemoryCache_IsAvailableAsTheComparisonBaseline()
    {
        using var cache = new MemoryCache(new MemoryCacheOptions());
        cache.Set("k", 1);

        Assert.True(cache.TryGetValue("k", out int value));
        Assert.Equal(1, value);
    }
}
