using SafeMem.Telemetry;

namespace SafeMem.Tests.Telemetry;

public sealed class InstrumentNamesTests
{
    [Theory]
    [InlineData("cache", "requests", "safemem.cache.requests")]
    [InlineData("cache", "entry.count", "safemem.cache.entry.count")]
    [InlineData("event", "handler.failures", "safemem.event.handler.failures")]
    public void For_BuildsDottedLowercaseName(string block, string what, string expected)
        => Assert.Equal(expected, InstrumentNames.For(block, what));

    [Theory]
    [InlineData("safemem.cache.requests")]
    [InlineData("safemem.cache.weight_limit")]
    [InlineData("safemem.registry.entry.count")]
    public void IsValid_ConventionalName_ReturnsTrue(string name) => Assert.True(InstrumentNames.IsValid(name));

    [Theory]
    [InlineData("cache.requests")]
    [InlineData("safemem.requests")]
    [InlineData("SafeMem.cache.requests")]
    [InlineData("safemem.Cache.requests")]
    [InlineData("safemem.cache..requests")]
    [InlineData("safemem.cache.requests.")]
    [InlineData("safemem.cache-hits.count")]
    [InlineData("safemem.cache.requests count")]
    [InlineData("")]
    public void IsValid_UnconventionalName_ReturnsFalse(string name) => Assert.False(InstrumentNames.IsValid(name));

    [Fact]
    public void For_UnconventionalSegment_Throws()
        => Assert.Throws<ArgumentException>(() => InstrumentNames.For("Cache", "Hits"));

    [Fact]
    public void Validate_Null_Throws() => Assert.Throws<ArgumentNullException>(() => InstrumentNames.Validate(null!));
}
