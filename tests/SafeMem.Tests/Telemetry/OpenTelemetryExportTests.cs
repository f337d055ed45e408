using OpenTelemetry;
using OpenTelemetry.Metrics;
using SafeMem.Attachments;
using SafeMem.Caching;
using SafeMem.Events;
using SafeMem.Registries;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Telemetry;

/// <summary>
/// What docs/production.md tells users to do: <c>AddMeter("SafeMem")</c> on an OpenTelemetry meter provider. The SDK's
/// in-memory exporter stands in for OTLP, and the figures it exports must be the blocks' own.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class OpenTelemetryExportTests
{
    [Fact]
    public void MeterProvider_WithTheSafeMemMeter_ExportsEveryBlocksInstrumentsWithTheirFigures()
    {
        var exported = new List<Metric>();
        using MeterProvider provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(SafeMemMetrics.MeterName)
            .AddInMemoryExporter(exported)
            .Build();

        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { Name = "otel.cache", MaximumCount = 2 });
        cache.Set(1, "one");
        cache.Set(2, "two");
        cache.Set(3, "three"); // evicts 1
        Assert.True(cache.TryGet(3, out _));
        Assert.False(cache.TryGet(1, out _));

        var source = new WeakEventSource<EventArgs>("otel.events");
        var subscriber = new Subscriber();
        source.Add(subscriber.OnEvent);
        source.Raise(null, EventArgs.Empty);

        var attachment = new Attachment<object, string>("otel.attachment");
        object owner = new();
        attachment.GetOrAdd(owner, static _ => "state");

        var registry = new WeakValueRegistry<int, object>("otel.registry");
        object session = registry.GetOrAdd(7, static _ => new object());

        Assert.True(provider.ForceFlush());

        Assert.Equal(2, Value(exported, "safemem.cache.entry.count", "otel.cache"));
        Assert.Equal(1, Value(exported, "safemem.cache.requests", "otel.cache", (SafeMemTags.CacheResult, "hit")));
        Assert.Equal(1, Value(exported, "safemem.cache.requests", "otel.cache", (SafeMemTags.CacheResult, "miss")));
        Assert.Equal(1, Value(exported, "safemem.cache.removals", "otel.cache", (SafeMemTags.CacheRemovalReason, "evicted")));
        Assert.Equal(1, Value(exported, "safemem.event.subscription.count", "otel.events"));
        Assert.Equal(1, Value(exported, "safemem.event.raises", "otel.events"));
        Assert.Equal(1, Value(exported, "safemem.attachment.entry.count", "otel.attachment"));
        Assert.Equal(1, Value(exported, "safemem.registry.entry.count", "otel.registry"));
        Assert.Equal(1, subscriber.Calls);
        GC.KeepAlive(owner);
        GC.KeepAlive(session);
    }

    [Fact]
    public void MeterProvider_WithoutTheSafeMemMeter_ExportsNothingOfSafeMem()
    {
        // The control: the figures above come from AddMeter("SafeMem"), not from the exporter seeing every meter.
        var exported = new List<Metric>();
        using MeterProvider provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter("SomeOtherMeter")
            .AddInMemoryExporter(exported)
            .Build();
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { Name = "otel.cache.control", MaximumCount = 2 });
        cache.Set(1, "one");

        Assert.True(provider.ForceFlush());

        Assert.DoesNotContain(exported, metric => metric.MeterName == SafeMemMetrics.MeterName);
    }

    private static long Value(List<Metric> exported, string instrument, string name, params (string Key, string Value)[] tags)
    {
        Metric metric = Assert.Single(exported, m => m.Name == instrument);
        var values = new List<long>();
        foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }

            if (Equals(pointTags.GetValueOrDefault(SafeMemTags.Name), name) && tags.All(t => Equals(pointTags.GetValueOrDefault(t.Key), t.Value)))
            {
                values.Add(metric.MetricType is MetricType.LongGauge ? point.GetGaugeLastValueLong() : point.GetSumLong());
            }
        }

        return Assert.Single(values);
    }

    private sealed class Subscriber
    {
        public int Calls { get; private set; }

        public void OnEvent(object? sender, EventArgs e) => Calls++;
    }
}
