using SafeMem.Caching;

namespace SafeMem.Tests.Caching;

public sealed class BoundedCacheOptionsTests
{
    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new BoundedCacheOptions<int, string>();

        Assert.Null(options.Name);
        Assert.Null(options.WeightUnit);
        Assert.Null(options.MaximumCount);
        Assert.Null(options.MaximumWeight);
        Assert.Null(options.Weigher);
        Assert.Null(options.KeyComparer);
        Assert.Null(options.ExpireAfterWrite);
        Assert.Null(options.ExpireAfterAccess);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.False(options.DisposeRemovedValues);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void MaximumCount_NotPositive_Throws(int value)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedCacheOptions<int, string> { MaximumCount = value });

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    public void MaximumWeight_NotPositive_Throws(long value)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedCacheOptions<int, string> { MaximumWeight = value });

    [Fact]
    public void ExpireAfterWrite_NotPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedCacheOptions<int, string> { ExpireAfterWrite = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedCacheOptions<int, string> { ExpireAfterWrite = TimeSpan.FromSeconds(-1) });
    }

    [Fact]
    public void ExpireAfterAccess_NotPositive_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedCacheOptions<int, string> { ExpireAfterAccess = TimeSpan.Zero });

    [Fact]
    public void NameAndWeightUnit_EmptyOrBlank_ThrowNamingTheOption()
    {
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedCacheOptions<int, string> { Name = string.Empty }).ParamName);
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedCacheOptions<int, string> { Name = " " }).ParamName);
        Assert.Equal("WeightUnit", Assert.Throws<ArgumentException>(() => new BoundedCacheOptions<int, string> { WeightUnit = string.Empty }).ParamName);
    }

    [Fact]
    public void NameAndWeightUnit_Null_MeanGeneratedNameAndDefaultUnit()
    {
        var options = new BoundedCacheOptions<int, string> { Name = "x", WeightUnit = "By" };

        options.Name = null;
        options.WeightUnit = null;

        Assert.Null(options.Name);
        Assert.Null(options.WeightUnit);
    }

    [Fact]
    public void TimeProvider_Null_Throws()
        => Assert.Throws<ArgumentNullException>(() => new BoundedCacheOptions<int, string> { TimeProvider = null! });

    public static TheoryData<string, Action<BoundedCacheOptions<int, string>>> OutOfRangeSettings => new()
    {
        { "MaximumCount", o => o.MaximumCount = 0 },
        { "MaximumCount", o => o.MaximumCount = -3 },
        { "MaximumWeight", o => o.MaximumWeight = 0 },
        { "ExpireAfterWrite", o => o.ExpireAfterWrite = TimeSpan.Zero },
        { "ExpireAfterAccess", o => o.ExpireAfterAccess = TimeSpan.FromSeconds(-1) },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeSettings))]
    public void Setter_OutOfRange_ExceptionNamesTheOption(string option, Action<BoundedCacheOptions<int, string>> set)
    {
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => set(new BoundedCacheOptions<int, string>()));

        Assert.Equal(option, ex.ParamName);
        Assert.StartsWith($"{option} must be greater than zero", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Setter_NullOrEmpty_ExceptionNamesTheOption()
    {
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedCacheOptions<int, string> { Name = "" }).ParamName);
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new BoundedCacheOptions<int, string> { Name = " " }).ParamName);
        Assert.Equal("TimeProvider", Assert.Throws<ArgumentNullException>(() => new BoundedCacheOptions<int, string> { TimeProvider = null! }).ParamName);
    }

    [Fact]
    public void NullableProperties_AcceptNullToRemoveALimit()
    {
        var options = new BoundedCacheOptions<int, string> { MaximumCount = 1, MaximumWeight = 2, ExpireAfterWrite = TimeSpan.FromSeconds(1) };

        options.MaximumCount = null;
        options.MaximumWeight = null;
        options.ExpireAfterWrite = null;

        Assert.Null(options.MaximumCount);
        Assert.Null(options.MaximumWeight);
        Assert.Null(options.ExpireAfterWrite);
    }
}
