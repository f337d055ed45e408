using System.Diagnostics.Metrics;
using SafeMem.Caching;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Caching;

/// <summary>The cache's instruments: names, kinds, units, tags and values, on an isolated meter per test.</summary>
public abstract class CacheCountersTests(EvictionPolicy policy)
{
    /// <summary>Gets the eviction policy every cache of these tests is built with.</summary>
    protected EvictionPolicy Policy { get; } = policy;

    private const string Name = "metrics-cache";

    private BoundedCache<int, string> NewCache(TestMeterFactory factory, FakeTimeProvider? clock = null) => new(new BoundedCacheOptions<int, string>
    {
        EvictionPolicy = Policy,
        Name = Name,
        MaximumCount = 2,
        MaximumWeight = 5,
        Weigher = static (_, v) => v.Length,
        ExpireAfterWrite = clock is null ? null : TimeSpan.FromSeconds(10),
        TimeProvider = clock ?? TimeProvider.System,
        MeterFactory = factory,
    });

    [Fact]
    public void Instruments_HaveNamesKindsUnitsAndDescriptions()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using BoundedCache<int, string> cache = NewCache(factory);

        recorder.Observe();

        (string Name, Type Kind, string Unit)[] expected =
        [
            ("safemem.cache.requests", typeof(ObservableCounter<long>), "{request}"),
            ("safemem.cache.removals", typeof(ObservableCounter<long>), "{entry}"),
            ("safemem.cache.entry.count", typeof(ObservableUpDownCounter<long>), "{entry}"),
            ("safemem.cache.entry.limit", typeof(ObservableUpDownCounter<long>), "{entry}"),
            ("safemem.cache.weight", typeof(ObservableUpDownCounter<long>), "{weight}"),
            ("safemem.cache.weight.limit", typeof(ObservableUpDownCounter<long>), "{weight}"),
            ("safemem.cache.factory.calls", typeof(ObservableCounter<long>), "{call}"),
            ("safemem.cache.factory.failures", typeof(ObservableCounter<long>), "{failure}"),
        ];
        foreach ((string name, Type kind, string unit) in expected)
        {
            Assert.True(recorder.Instruments.TryGetValue(name, out Instrument? instrument), $"missing {name}");
            Assert.IsType(kind, instrument);
            Assert.Equal(unit, instrument.Unit);
            Assert.False(string.IsNullOrWhiteSpace(instrument.Description));
        }
    }

    [Fact]
    public void Observe_ReportsTheSameFiguresAsGetStatistics()
    {
        var clock = new FakeTimeProvider();
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using BoundedCache<int, string> cache = NewCache(factory, clock);

        cache.Set(1, "a");
        cache.TryGet(1, out _);
        cache.TryGet(1, out _);
        cache.TryGet(9, out _);
        cache.Set(2, "bb");
        cache.Set(3, "ccc");
        cache.Set(4, "dddddd");
        clock.Advance(TimeSpan.FromSeconds(10));
        cache.TryGet(3, out _);
        cache.GetOrAdd(5, _ => "e");
        Assert.Throws<InvalidDataException>(() => cache.GetOrAdd(6, _ => throw new InvalidDataException()));

        CacheStatistics s = cache.GetStatistics();
        Assert.Equal(s.Hits, recorder.ObserveValue("safemem.cache.requests", Name, (SafeMemTags.CacheResult, "hit")));
        Assert.Equal(s.Misses, recorder.ObserveValue("safemem.cache.requests", Name, (SafeMemTags.CacheResult, "miss")));
        foreach (RemovalReason reason in Enum.GetValues<RemovalReason>())
        {
            Assert.Equal(s.RemovalsByReason[reason], recorder.ObserveValue("safemem.cache.removals", Name, (SafeMemTags.CacheRemovalReason, reason.ToString().ToLowerInvariant())));
        }

        Assert.Equal(s.Evictions, s.RemovalsByReason[RemovalReason.Evicted]);
        Assert.Equal(s.Removals, s.RemovalsByReason.Values.Sum());
        Assert.Equal(s.EntryCount, recorder.ObserveValue("safemem.cache.entry.count", Name));
        Assert.Equal(s.Weight, recorder.ObserveValue("safemem.cache.weight", Name));
        Assert.Equal(5, recorder.ObserveValue("safemem.cache.weight.limit", Name));
        Assert.Equal(2, recorder.ObserveValue("safemem.cache.entry.limit", Name));
        Assert.Equal(s.FactoryCalls, recorder.ObserveValue("safemem.cache.factory.calls", Name));
        Assert.Equal(s.FactoryFailures, recorder.ObserveValue("safemem.cache.factory.failures", Name));
        Assert.Equal(s.AdmissionRejections, recorder.ObserveValue("safemem.cache.admission.rejections", Name));

        // Every measurement of the cache carries its policy.
        string policyTag = Policy == EvictionPolicy.Lru ? "lru" : "tinylfu";
        IReadOnlyList<RecordedMeasurement> measurements = recorder.Observe().Where(m => m.Name == Name).ToList();
        Assert.NotEmpty(measurements);
        Assert.All(measurements, m => Assert.Equal(policyTag, m.Tags[SafeMemTags.CachePolicy]));
        Assert.Equal(Policy, s.Policy);

        // And the figures are the ones this sequence must produce.
        Assert.Equal(2, s.Hits);
        Assert.Equal(4, s.Misses);
        Assert.Equal(1, s.Rejections);
        Assert.True(s.Evictions >= 1);
        Assert.True(s.Expirations >= 1);
        Assert.Equal(2, s.FactoryCalls);
        Assert.Equal(1, s.FactoryFailures);
        Assert.Equal(1, s.EntryCount);
        Assert.Equal(1, s.Weight);
    }

    [Fact]
    public void Observe_TwoCachesOfDifferentTypes_ShareInstrumentsAndAreToldApartByName()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using var a = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, Name = "a", MaximumCount = 10, MeterFactory = factory });
        using var b = new BoundedCache<string, byte[]>(new BoundedCacheOptions<string, byte[]> { EvictionPolicy = Policy, Name = "b", MaximumCount = 10, MeterFactory = factory });
        a.Set(1, "x");
        b.Set("k", [1]);
        b.Set("l", [2]);

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", "a"));
        Assert.Equal(2, recorder.ObserveValue("safemem.cache.entry.count", "b"));
        Assert.Same(SafeMemMeter.Resolve(factory), recorder.Instruments["safemem.cache.entry.count"].Meter);
    }

    [Fact]
    public void Dispose_StopsReporting()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        BoundedCache<int, string> cache = NewCache(factory);
        cache.Set(1, "a");

        cache.Dispose();

        Assert.DoesNotContain(recorder.Observe(), m => m.Name == Name);
    }

    [Fact]
    public void WeightLimit_CountBoundedCache_IsNotReported()
    {
        using var factory = new TestMeterFactory();
        using var recorder = new MetricRecorder(SafeMemMeter.Resolve(factory));
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { EvictionPolicy = Policy, Name = "count-only", MaximumCount = 3, MeterFactory = factory });

        Assert.Null(recorder.ObserveValue("safemem.cache.weight.limit", "count-only"));
        Assert.Equal(3, recorder.ObserveValue("safemem.cache.entry.limit", "count-only"));
    }

    /// <summary>Runs these tests under <see cref="EvictionPolicy.Lru"/>.</summary>
    public sealed class UnderLru() : CacheCountersTests(EvictionPolicy.Lru);

    /// <summary>Runs these tests under <see cref="EvictionPolicy.TinyLfu"/>.</summary>
    public sealed class UnderTinyLfu() : CacheCountersTests(EvictionPolicy.TinyLfu);
}

/// <summary>The default (shared, process-wide) meter: these tests must not run beside other process-wide metrics tests.</summary>
[Collection(MetricsCollection.Name)]
public sealed class CacheCountersSharedMeterTests
{
    [Fact]
    public void NoMeterFactory_PublishesThroughSharedSafeMemMeter()
    {
        using var recorder = new MetricRecorder(SafeMemMetrics.MeterName);
        using var cache = new BoundedCache<int, string>(new BoundedCacheOptions<int, string> { Name = "shared-meter-cache", MaximumCount = 3 });
        cache.Set(1, "a");

        Assert.Equal(1, recorder.ObserveValue("safemem.cache.entry.count", "shared-meter-cache"));
        Assert.Same(SafeMemMeter.Shared, recorder.Instruments["safemem.cache.entry.count"].Meter);
    }
}
