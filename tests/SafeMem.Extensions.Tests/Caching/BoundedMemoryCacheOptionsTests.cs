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
        Assert.False(options.TrackStatistics);
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

    public static TheoryData<string, string, Action<BoundedMemoryCacheOptions>> OutOfRangeSettings => new()
    {
        { "MaximumCount", "must be greater than zero", o => o.MaximumCount = 0 },
        { "MaximumWeight", "must be greater than zero", o => o.MaximumWeight = -1 },
        { "DefaultEntryWeight", "must be zero or more", o => o.DefaultEntryWeight = -1 },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeSettings))]
    public void Setter_OutOfRange_ExceptionNamesTheOption(string option, string rule, Action<BoundedMemoryCacheOptions> set)
    {
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => set(new BoundedMemoryCacheOptions()));

        Assert.Equal(option, ex.ParamName);
        Assert.StartsWith($"{option} {rule}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Setter_NullOrEmpty_ExceptionNamesTheOption()
    {
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedMemoryCacheOptions { Name = "" }).ParamName);
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedMemoryCacheOptions { Name = " " }).ParamName);
        Assert.Equal("TimeProvider", Assert.Throws<ArgumentNullException>(() => new BoundedMemoryCacheOptions { TimeProvider = null! }).ParamName);
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
