using Microsoft.Extensions.Caching.Memory;

namespace SafeMem.Extensions.Tests.Caching;

/// <summary>The shared contract against the runtime's <see cref="MemoryCache"/>: proves the contract is the real one.</summary>
public sealed class MemoryCacheContractOnMemoryCacheTests : MemoryCacheContractTests
{
    protected override IMemoryCache CreateCache(long? sizeLimit) => new MemoryCache(new MemoryCacheOptions
    {
        Clock = new FakeSystemClock(Clock),
        SizeLimit = sizeLimit,
        TrackStatistics = true,
    });
}
