using SafeMem.Attachments;
using SafeMem.Caching;
using SafeMem.Events;
using SafeMem.Registries;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Telemetry;

public sealed class InstanceNamesTests
{
    [Fact]
    public void Resolve_GivenName_IsKept()
        => Assert.Equal("orders", InstanceNames.Resolve("orders", "cache"));

    [Fact]
    public void Resolve_NoName_GivesDistinctNamesOfTheBlock()
    {
        string first = InstanceNames.Resolve(null, "probe");
        string second = InstanceNames.Resolve(null, "probe");

        Assert.NotEqual(first, second);
        Assert.Matches("^probe-[0-9]+$", first);
        Assert.Matches("^probe-[0-9]+$", second);
    }

    [Fact]
    public void UnnamedInstances_OfEveryBlock_GetDistinctNames()
    {
        using var a = new BoundedCache<int, int>(new() { MaximumCount = 1 });
        using var b = new BoundedCache<int, int>(new() { MaximumCount = 1 });

        AssertDistinct("cache-", a.Name, b.Name);
        AssertDistinct("event-", new WeakEventSource<EventArgs>().Name, new AsyncWeakEventSource<EventArgs>().Name);
        AssertDistinct("attachment-", new Attachment<object, int>().Name, new Attachment<object, int>().Name);
        AssertDistinct("registry-", new WeakRegistry<object>().Name, new WeakValueRegistry<int, object>().Name);
    }

    [Fact]
    public void TwoUnnamedCaches_ReportAsTwoSeries()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using var a = new BoundedCache<int, int>(new() { MaximumCount = 10, MeterFactory = factory });
        using var b = new BoundedCache<int, int>(new() { MaximumCount = 10, MeterFactory = factory });
        a.Set(1, 1);
        b.Set(1, 1);
        b.Set(2, 2);

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", a.Name));
        Assert.Equal(2, recorder.ObserveValue("safemem.cache.entry.count", b.Name));
    }

    private static void AssertDistinct(string prefix, string first, string second)
    {
        Assert.StartsWith(prefix, first, StringComparison.Ordinal);
        Assert.StartsWith(prefix, second, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }
}
