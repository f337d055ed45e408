using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Demo.Lab;

/// <summary>
/// Reads SafeMem's instruments the way an exporter does: a <see cref="MeterListener"/> on the <c>SafeMem</c> meter
/// that collects the observable instruments on demand. Nothing here calls a block's <c>GetStatistics()</c>, so
/// the figures the lab shows are the ones a dashboard would see.
/// </summary>
/// <remarks>
/// Keys: the instrument name, summed over the lab's instances; and, for a measurement with a tag besides
/// <c>safemem.name</c>, also <c>name{tag=value}</c> (for example <c>safemem.cache.requests{safemem.cache.result=hit}</c>).
/// Not thread-safe: one reader per variant, read from the variant's thread.
/// </remarks>
internal sealed class TelemetryReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

    public TelemetryReader()
    {
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == SafeMemMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Collects every observable SafeMem instrument now and adds the values to <paramref name="into"/>.</summary>
    public void ReadInto(IDictionary<string, double> into)
    {
        _values.Clear();
        _listener.RecordObservableInstruments();
        foreach ((string key, double value) in _values)
        {
            into[key] = value;
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? extra = null;
        bool ours = false;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == SafeMemTags.Name)
            {
                ours = tag.Value is string name && name.StartsWith(LabNames.Prefix, StringComparison.Ordinal);
            }
            else
            {
                extra = $"{instrument.Name}{{{tag.Key}={tag.Value}}}";
            }
        }

        if (!ours)
        {
            return;
        }

        Add(instrument.Name, value);
        if (extra is not null)
        {
            Add(extra, value);
        }
    }

    private void Add(string key, double value) =>
        _values[key] = _values.TryGetValue(key, out double sum) ? sum + value : value;
}
