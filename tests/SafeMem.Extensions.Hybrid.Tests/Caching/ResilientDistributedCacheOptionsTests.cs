using Microsoft.Extensions.Options;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Hybrid.Tests.Caching;

public sealed class ResilientDistributedCacheOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new ResilientDistributedCacheOptions();

        Assert.Equal(TimeSpan.FromMilliseconds(50), options.Timeout);
        Assert.Equal(0.5, options.FailureRatio);
        Assert.Equal(10, options.MinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(2), options.SamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), options.BreakDuration);
        Assert.Equal(1_000, options.MaximumOperationsInFlight);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Same(options, ((IOptions<ResilientDistributedCacheOptions>)options).Value);
    }

    [Fact]
    public void Setters_RejectValuesThatCanNeverBeValid()
    {
        var options = new ResilientDistributedCacheOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.Timeout = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.FailureRatio = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.FailureRatio = 1.01);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.FailureRatio = double.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MinimumThroughput = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.SamplingDuration = TimeSpan.FromMilliseconds(499));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.BreakDuration = TimeSpan.FromMilliseconds(499));
        Assert.Throws<ArgumentNullException>(() => options.TimeProvider = null!);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaximumOperationsInFlight = 0);

        options.Timeout = TimeSpan.FromMilliseconds(1);
        options.FailureRatio = 1;
        options.MinimumThroughput = 2;
        options.SamplingDuration = TimeSpan.FromMilliseconds(500);
        options.BreakDuration = TimeSpan.FromMilliseconds(500);
        options.MaximumOperationsInFlight = 1;
        Assert.Equal(TimeSpan.FromMilliseconds(1), options.Timeout);
    }
}
