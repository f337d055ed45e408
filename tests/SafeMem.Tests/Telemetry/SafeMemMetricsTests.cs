using System.Diagnostics.Metrics;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Telemetry;

public sealed class SafeMemMetricsTests
{
    [Fact]
    public void MeterName_IsSafeMem() => Assert.Equal("SafeMem", SafeMemMetrics.MeterName);

    [Fact]
    public void MeterVersion_IsTheAssemblyVersionWithoutBuildMetadata()
    {
        Version assemblyVersion = typeof(SafeMemMetrics).Assembly.GetName().Version!;

        Assert.StartsWith($"{assemblyVersion.Major}.{assemblyVersion.Minor}.{assemblyVersion.Build}", SafeMemMetrics.MeterVersion);
        Assert.DoesNotContain("+", SafeMemMetrics.MeterVersion);
    }

    [Fact]
    public void Shared_IsOneMeterWithNameAndVersion()
    {
        Meter meter = SafeMemMeter.Shared;

        Assert.Same(meter, SafeMemMeter.Shared);
        Assert.Same(meter, SafeMemMeter.Resolve(null));
        Assert.Equal(SafeMemMetrics.MeterName, meter.Name);
        Assert.Equal(SafeMemMetrics.MeterVersion, meter.Version);
    }

    [Fact]
    public void Resolve_WithFactory_UsesTheFactorysMeter()
    {
        using var factory = new TestMeterFactory();

        Meter meter = SafeMemMeter.Resolve(factory);

        Assert.NotSame(SafeMemMeter.Shared, meter);
        Assert.Same(factory, meter.Scope);
        Assert.Equal(SafeMemMetrics.MeterName, meter.Name);
        Assert.Equal(SafeMemMetrics.MeterVersion, meter.Version);
        Assert.Same(meter, SafeMemMeter.Resolve(factory));
    }

    [Fact]
    public void Tags_NameKeyFollowsConvention() => Assert.Equal("safemem.name", SafeMemTags.Name);
}
