using Microsoft.Extensions.Caching.Memory;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>The shared contract against <see cref="BoundedMemoryCache"/>, bounded by weight when the test gives a size limit.</summary>
public sealed class MemoryCacheContractOnBoundedMemoryCacheTests : MemoryCacheContractTests
{
    protected override IMemoryCache CreateCache(long? sizeLimit) => new BoundedMemoryCache(new BoundedMemoryCacheOptions
    {
        Name = "contract",
        TimeProvider = Clock,
        MaximumWeight = sizeLimit,
        MaximumCount = sizeLimit is null ? 10_000 : null,
        TrackStatistics = true,
    });
}
