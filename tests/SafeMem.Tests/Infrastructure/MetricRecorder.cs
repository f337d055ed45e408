using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Records what instruments publish, through a <see cref="MeterListener"/>. Listen either to one meter (isolated, e.g.
/// from a <see cref="TestMeterFactory"/>) or to every meter named <c>SafeMem</c> (process-wide: such tests belong in
/// the <see cref="MetricsCollection"/> so they do not run in parallel).
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<RecordedMeasurement> _measurements = new();
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
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (filter(instrument))
                {
                    _instruments[instrument.Name] = instrument;
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Instruments seen so far, by name.</summary>
    public IReadOnlyDictionary<string, Instrument> Instruments => _instruments;

    /// <summary>Everything recorded so far, in order.</summary>
    public IReadOnlyList<RecordedMeasurement> Measurements => [.. _measurements];

    /// <summary>Asks every observable instrument for its current values, then returns what they reported.</summary>
    public IReadOnlyList<RecordedMeasurement> Observe()
    {
        _measurements.Clear();
        _listener.RecordObservableInstruments();
        return Measurements;
    }

    /// <summary>Observes, then returns the single value <paramref name="instrument"/> reported for the tags given.</summary>
    public double? ObserveValue(string instrument, string name, params (string Key, object? Value)[] tags)
    {
        List<RecordedMeasurement> matching = Observe().Where(m => m.Matches(instrument, name, tags)).ToList();
        Assert.True(matching.Count <= 1, $"Expected at most one '{instrument}' measurement for '{name}', got {matching.Count}.");
        return matching.Count == 0 ? null : matching[0].Value;
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => _measurements.Enqueue(new RecordedMeasurement(instrument, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
}
