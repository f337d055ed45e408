using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using SafeMem.Telemetry;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Telemetry;

public sealed class InstrumentRegistryTests
{
    private const string Requests = "safemem.test.requests";
    private const string Items = "safemem.test.item.count";

    [Fact]
    public void For_SameMeter_DefinesInstrumentsOnce()
    {
        using var factory = new TestMeterFactory();
        Meter meter = SafeMemMeter.Resolve(factory);
        int definitions = 0;

        InstrumentRegistry<FakeBlock> first = InstrumentRegistry<FakeBlock>.For(meter, _ => definitions++);
        InstrumentRegistry<FakeBlock> second = InstrumentRegistry<FakeBlock>.For(meter, _ => definitions++);

        Assert.Same(first, second);
        Assert.Equal(1, definitions);
    }

    [Fact]
    public void Observe_TwoInstances_ReportsEachUnderItsNameWithUnitAndDescription()
    {
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);
        using var recorder = new MetricRecorder(registry.Meter);
        var a = new FakeBlock { Hits = 3, Misses = 1, Items = 10 };
        var b = new FakeBlock { Hits = 7, Misses = 2, Items = 20 };
        using IDisposable ra = registry.Register(a, "a");
        using IDisposable rb = registry.Register(b, "b");

        IReadOnlyList<RecordedMeasurement> measurements = recorder.Observe();

        Assert.Equal(3, Single(measurements, Requests, "a", "hit"));
        Assert.Equal(1, Single(measurements, Requests, "a", "miss"));
        Assert.Equal(7, Single(measurements, Requests, "b", "hit"));
        Assert.Equal(20, measurements.Single(m => m.Instrument.Name == Items && m.Name == "b").Value);
        Instrument requests = recorder.Instruments[Requests];
        Assert.Equal("{request}", requests.Unit);
        Assert.False(string.IsNullOrEmpty(requests.Description));
        Assert.IsType<ObservableCounter<long>>(requests);
        Assert.IsType<ObservableUpDownCounter<long>>(recorder.Instruments[Items]);
    }

    [Fact]
    public void Observe_ReadingReturnsNoValue_PublishesNothingForThatInstance()
    {
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);
        using var recorder = new MetricRecorder(registry.Meter);
        var bounded = new FakeBlock { Items = 4 };
        var unbounded = new FakeBlock { Items = InstrumentRegistry<FakeBlock>.NoValue };
        using IDisposable rb = registry.Register(bounded, "bounded");
        using IDisposable ru = registry.Register(unbounded, "unbounded");

        IReadOnlyList<RecordedMeasurement> measurements = recorder.Observe();

        Assert.Contains(measurements, m => m.Instrument.Name == Items && m.Name == "bounded" && m.Value == 4);
        Assert.DoesNotContain(measurements, m => m.Instrument.Name == Items && m.Name == "unbounded");
    }

    [Fact]
    public void Observe_AfterRegistrationDisposed_StopsReporting()
    {
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);
        using var recorder = new MetricRecorder(registry.Meter);
        var block = new FakeBlock { Items = 5 };
        IDisposable registration = registry.Register(block, "gone");

        registration.Dispose();

        Assert.DoesNotContain(recorder.Observe(), m => m.Name == "gone");
        Assert.Equal(0, registry.RegistrationCount);
    }

    [Fact]
    public void DroppedBlock_WhileListenerListens_IsCollectedAndStopsReporting()
    {
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);
        using var recorder = new MetricRecorder(registry.Meter);
        WeakReference weak = RegisterAndObserve(registry, recorder, "dropped");

        Assert.True(GcAssert.TryCollect(weak), "The instrument callbacks kept a dropped block alive.");
        Assert.DoesNotContain(recorder.Observe(), m => m.Name == "dropped");
        Assert.Equal(0, registry.RegistrationCount);
    }

    [Fact]
    public void HeldBlock_WhileListenerListens_StaysAliveAndKeepsReporting()
    {
        // Control for the test above: the same scenario with the block held must keep it, and its figures.
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);
        using var recorder = new MetricRecorder(registry.Meter);
        var block = new FakeBlock { Items = 9 };
        using IDisposable registration = registry.Register(block, "held");
        var weak = new WeakReference(block);

        Assert.False(GcAssert.TryCollect(weak, attempts: 3));
        Assert.Equal(9, recorder.Observe().Single(m => m.Instrument.Name == Items && m.Name == "held").Value);
        GC.KeepAlive(block);
    }

    [Fact]
    public void Register_ManyDroppedBlocks_PurgesDeadRegistrationsWithoutObservation()
    {
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);
        var held = new List<IDisposable>();
        for (int round = 0; round < 20; round++)
        {
            RegisterDropped(registry, 100);
            GcAssert.FullCollect();
        }

        held.Add(registry.Register(new FakeBlock(), "last"));

        // 2,000 blocks were registered and dropped; without an observation the registry must still shrink.
        Assert.True(registry.RegistrationCount <= 250, $"Registry holds {registry.RegistrationCount} registrations.");
        held.ForEach(h => h.Dispose());
    }

    [Fact]
    public void CreateInstrument_UnconventionalName_Throws()
    {
        using var factory = new TestMeterFactory();
        InstrumentRegistry<FakeBlock> registry = CreateRegistry(factory);

        Assert.Throws<ArgumentException>(() => registry.CreateObservableCounter("Test.Bad", "{x}", "bad", static b => b.Hits));
    }

    private static double Single(IReadOnlyList<RecordedMeasurement> measurements, string instrument, string name, string result)
        => measurements.Single(m => m.Matches(instrument, name, ("result", result))).Value;

    private static InstrumentRegistry<FakeBlock> CreateRegistry(TestMeterFactory factory)
        => InstrumentRegistry<FakeBlock>.For(SafeMemMeter.Resolve(factory), static registry =>
        {
            registry.CreateObservableCounter(
                Requests,
                InstrumentUnits.Requests,
                "Lookups, by result.",
                new InstrumentRegistry<FakeBlock>.Reading(static b => b.Hits, new("result", "hit")),
                new InstrumentRegistry<FakeBlock>.Reading(static b => b.Misses, new("result", "miss")));
            registry.CreateObservableUpDownCounter(Items, InstrumentUnits.Items, "Items held.", static b => b.Items);
        });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RegisterAndObserve(InstrumentRegistry<FakeBlock> registry, MetricRecorder recorder, string name)
    {
        var block = new FakeBlock { Items = 1 };
        IDisposable registration = registry.Register(block, name);
        Assert.Contains(recorder.Observe(), m => m.Name == name);
        GC.KeepAlive(registration);
        return new WeakReference(block);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RegisterDropped(InstrumentRegistry<FakeBlock> registry, int count)
    {
        for (int i = 0; i < count; i++)
        {
            registry.Register(new FakeBlock(), "dropped-" + i);
        }
    }

    private sealed class FakeBlock
    {
        public long Hits { get; set; }

        public long Misses { get; set; }

        public long Items { get; set; }
    }
}
