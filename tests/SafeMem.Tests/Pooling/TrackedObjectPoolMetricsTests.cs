using SafeMem.Pooling;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Pooling;

public sealed class TrackedObjectPoolMetricsTests
{
    [Fact]
    public void Pool_PublishesItsFigures()
    {
        using var factory = new TestMeterFactory();
        var policy = new ThingPolicy();
        var pool = new TrackedObjectPool<PooledThing>(policy, new TrackedObjectPoolOptions { Name = "metrics-pool", MaximumRetained = 1, MeterFactory = factory, SamplingRate = 1 });
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        PooledThing a = pool.Get();
        PooledThing b = pool.Get();
        PooledThing c = pool.Get();
        pool.Return(a);
        pool.Return(b);
        c.Dirty = true;
        pool.Return(c);
        PooledThing d = pool.Get();
        Assert.Throws<InvalidOperationException>(() => pool.Return(b));

        Assert.Equal(4, recorder.ObserveValue("safemem.pool.rentals", "metrics-pool"));
        Assert.Equal(3, recorder.ObserveValue("safemem.pool.returns", "metrics-pool"));
        Assert.Equal(3, recorder.ObserveValue("safemem.pool.creations", "metrics-pool"));
        Assert.Equal(1, recorder.ObserveValue("safemem.pool.drops", "metrics-pool", (SafeMemTags.PoolDropReason, "full")));
        Assert.Equal(1, recorder.ObserveValue("safemem.pool.drops", "metrics-pool", (SafeMemTags.PoolDropReason, "rejected")));
        Assert.Equal(1, recorder.ObserveValue("safemem.pool.outstanding.count", "metrics-pool"));
        Assert.Equal(0, recorder.ObserveValue("safemem.pool.leaks", "metrics-pool"));
        Assert.Equal(1, recorder.ObserveValue("safemem.pool.invalid_returns", "metrics-pool"));
        Assert.All(recorder.Instruments.Values.Where(i => i.Name.StartsWith("safemem.pool.", StringComparison.Ordinal)), i =>
        {
            Assert.Equal("{object}", i.Unit);
            Assert.False(string.IsNullOrEmpty(i.Description));
        });

        pool.Dispose();
        Assert.Null(recorder.ObserveValue("safemem.pool.rentals", "metrics-pool"));
        GC.KeepAlive(d);
    }
}
