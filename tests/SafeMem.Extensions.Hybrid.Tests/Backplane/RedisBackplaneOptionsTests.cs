using Microsoft.Extensions.Options;
using SafeMem.Extensions.Backplane;

namespace SafeMem.Extensions.Hybrid.Tests.Backplane;

public sealed class RedisBackplaneOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RedisBackplaneOptions();

        Assert.Null(options.Configuration);
        Assert.Null(options.ConfigurationOptions);
        Assert.Null(options.ConnectionMultiplexer);
        Assert.Null(options.ConnectionMultiplexerFactory);
        Assert.Equal("", options.ChannelPrefix);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ProbeInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.DisconnectedLocalCacheExpiration);
        Assert.Equal(10_000, options.MaximumPendingChanges);
        Assert.Null(options.Name);
        Assert.Null(options.MeterFactory);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Same(options, ((IOptions<RedisBackplaneOptions>)options).Value);
    }

    [Fact]
    public void Setters_RejectValuesThatCanNeverBeValid()
    {
        var options = new RedisBackplaneOptions();

        Assert.Throws<ArgumentNullException>(() => options.ChannelPrefix = null!);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ProbeInterval = TimeSpan.FromMilliseconds(49));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.DisconnectedLocalCacheExpiration = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaximumPendingChanges = 0);
        Assert.Throws<ArgumentNullException>(() => options.TimeProvider = null!);
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => options.Name = " ").ParamName);

        options.ProbeInterval = TimeSpan.FromMilliseconds(50);
        options.DisconnectedLocalCacheExpiration = TimeSpan.FromTicks(1);
        options.MaximumPendingChanges = 1;
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.ProbeInterval);
    }
}
