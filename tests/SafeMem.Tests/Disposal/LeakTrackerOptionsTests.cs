using SafeMem.Disposal;

namespace SafeMem.Tests.Disposal;

public sealed class LeakTrackerOptionsTests
{
    [Fact]
    public void Defaults_TrackEverythingWithoutStacks()
    {
        var options = new LeakTrackerOptions();

        Assert.Null(options.Name);
        Assert.Equal(1, options.SamplingRate);
        Assert.False(options.CaptureStackTrace);
        Assert.Null(options.MeterFactory);
    }

    [Theory]
    [InlineData(-0.0001)]
    [InlineData(1.0001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void SamplingRate_OutsideZeroToOne_Throws(double rate)
    {
        var options = new LeakTrackerOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.SamplingRate = rate);
        Assert.Equal(1, options.SamplingRate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0.5)]
    [InlineData(1)]
    public void SamplingRate_InRange_IsKept(double rate)
    {
        var options = new LeakTrackerOptions { SamplingRate = rate };

        Assert.Equal(rate, options.SamplingRate);
        Assert.Equal(rate, new LeakTracker(options).SamplingRate);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void Name_EmptyOrWhiteSpace_Throws(string name)
    {
        var options = new LeakTrackerOptions();

        Assert.ThrowsAny<ArgumentException>(() => options.Name = name);
    }

    [Fact]
    public void Options_ChangedAfterConstruction_DoNotAffectTheTracker()
    {
        var options = new LeakTrackerOptions { Name = "first", SamplingRate = 0, CaptureStackTrace = true };
        var tracker = new LeakTracker(options);

        options.Name = "second";
        options.SamplingRate = 1;
        options.CaptureStackTrace = false;

        Assert.Equal("first", tracker.Name);
        Assert.Equal(0, tracker.SamplingRate);
        Assert.True(tracker.CaptureStackTrace);
        Assert.False(tracker.Track(new object()).IsTracking);
    }
}
