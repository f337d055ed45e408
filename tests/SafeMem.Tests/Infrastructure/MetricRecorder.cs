using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Records what every instrument of a meter publishes. The recording itself is done by
/// <see cref="MetricCollector{T}"/> (Microsoft.Extensions.Diagnostics.Testing), one per instrument. This helper adds only
/// what a collector cannot do: a collector records the one instrument it is given, by reference or by name, while
/// SafeMem's metrics tests check a block's whole meter (every instrument's kind, unit and description; everything one
/// instance reports across instruments; that a dead instance is gone from all of them). So it finds each instrument as
/// it is published (a <see cref="MeterListener"/> that enables nothing) and gives it a collector.
/// Listen either to one meter (isolated, e.g. from a <see cref="TestMeterFactory"/>) or to every meter named
/// <c>SafeMem</c> (process-wide: such tests belong in the <see cref="MetricsCollection"/> so they do not run in parallel).
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _discovery;
    private readonly Dictionary<Instrument, ICollector> _collectors = [];
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new();

    /// <summary>Listens to instruments of <paramref name="meter"/> only.</summary>
    public MetricRecorder(Meter meter)
        : this(instrument => ReferenceEquals(instrument.Meter, meter))
    {
    }

    /// <summary>Listens to instruments of every meter named <paramref name="meterName"/>.</summary>
    public MetricRecorder(string meterName)
        : this(instrument => instrument.Meter.Name == meterName)
    {
    }

    private MetricRecorder(Func<Instrument, bool> filter)
    {
        _discovery = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (filter(instrument))
                {
                    Add(instrument);
                }
            },
        };
        _discovery.Start();
    }

    private interface ICollector : IDisposable
    {
        IEnumerable<RecordedMeasurement> Observe();
    }

    /// <summary>Instruments seen so far, by name (the one published last, when meters of one name share a name).</summary>
    public IReadOnlyDictionary<string, Instrument> Instruments => _instruments;

    /// <summary>Asks every observable instrument for its current values, then returns what they reported.</summary>
    public IReadOnlyList<RecordedMeasurement> Observe()
    {
        lock (_collectors)
        {
            return [.. _collectors.Values.SelectMany(collector => collector.Observe())];
        }
    }

    /// <summary>Observes, then returns the single value <paramref name="instrument"/> reported for the tags given.</summary>
    public double? ObserveValue(string instrument, string name, params (string Key, object? Value)[] tags)
    {
        List<RecordedMeasurement> matching = Observe().Where(m => m.Matches(instrument, name, tags)).ToList();
        Assert.True(matching.Count <= 1, $"Expected at most one '{instrument}' measurement for '{name}', got {matching.Count}.");
        return matching.Count == 0 ? null : matching[0].Value;
    }

    public void Dispose()
    {
        _discovery.Dispose();
        lock (_collectors)
        {
            foreach (ICollector collector in _collectors.Values)
            {
                collector.Dispose();
            }

            _collectors.Clear();
        }
    }

    // Instruments are published from whichever thread creates them; one collector each, even when two threads publish.
    private void Add(Instrument instrument)
    {
        _instruments[instrument.Name] = instrument;
        lock (_collectors)
        {
            if (!_collectors.ContainsKey(instrument))
            {
                _collectors.Add(instrument, instrument switch
                {
                    ObservableInstrument<long> observable => new Collector<long>(new MetricCollector<long>(observable)),
                    Instrument<long> recorded => new Collector<long>(new MetricCollector<long>(recorded)),
                    ObservableInstrument<int> observable => new Collector<int>(new MetricCollector<int>(observable)),
                    Instrument<int> recorded => new Collector<int>(new MetricCollector<int>(recorded)),
                    ObservableInstrument<double> observable => new Collector<double>(new MetricCollector<double>(observable)),
                    Instrument<double> recorded => new Collector<double>(new MetricCollector<double>(recorded)),
                    _ => throw new NotSupportedException($"Instrument '{instrument.Name}' has a value type this recorder does not read."),
                });
            }
        }
    }

    private sealed class Collector<T>(MetricCollector<T> collector) : ICollector
        where T : struct
    {
        public IEnumerable<RecordedMeasurement> Observe()
        {
            // What was recorded before this observation (non-observable instruments record as they go) is not asked for.
            collector.Clear();
            collector.RecordObservableInstruments();
            return collector.GetMeasurementSnapshot().Select(measurement => new RecordedMeasurement(
                collector.Instrument!, Convert.ToDouble(measurement.Value, CultureInfo.InvariantCulture), measurement.Tags));
        }

        public void Dispose() => collector.Dispose();
    }
}
