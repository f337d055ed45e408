using Microsoft.Extensions.Options;
using SafeMem.Extensions.Caching;

namespace SafeMem.Extensions.Tests.Caching;

public sealed class BoundedMemoryCacheOptionsTests
{
    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new BoundedMemoryCacheOptions();

        Assert.Null(options.Name);
        Assert.Null(options.WeightUnit);
        Assert.Null(options.MaximumCount);
        Assert.Null(options.MaximumWeight);
        Assert.Equal(1, options.DefaultEntryWeight);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Null(options.MeterFactory);
    }

    [Fact]
    public void Value_AsIOptions_IsTheInstanceItself()
    {
        var options = new BoundedMemoryCacheOptions();

        Assert.Same(options, ((IOptions<BoundedMemoryCacheOptions>)options).Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void MaximumCount_NotPositive_ThrowsArgumentOutOfRange(int value)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedMemoryCacheOptions { MaximumCount = value });

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void MaximumWeight_NotPositive_ThrowsArgumentOutOfRange(long value)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedMemoryCacheOptions { MaximumWeight = value });

    [Fact]
    public void DefaultEntryWeight_Negative_ThrowsArgumentOutOfRange()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedMemoryCacheOptions { DefaultEntryWeight = -1 });

    [Fact]
    public void DefaultEntryWeight_Zero_IsAllowed()
        => Assert.Equal(0, new BoundedMemoryCacheOptions { DefaultEntryWeight = 0 }.DefaultEntryWeight);

    [Fact]
    public void NameAndTimeProvider_NullOrEmpty_Throw()
    {
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedMemoryCacheOptions { Name = "" }).ParamName);
        Assert.Equal("WeightUnit", Assert.Throws<ArgumentException>(() => new BoundedMemoryCacheOptions { WeightUnit = " " }).ParamName);
        Assert.Throws<ArgumentNullException>(() => new BoundedMemoryCacheOptions { TimeProvider = null! });
    }

    [Fact]
    public void Bounds_NullAgain_AreAccepted()
    {
        var options = new BoundedMemoryCacheOptions { MaximumCount = 5, MaximumWeight = 5 };

        options.MaximumCount = null;
        options.MaximumWeight = null;

        Assert.Null(options.MaximumCount ?? options.MaximumWeight);
    }
}
