using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Demo;

/// <summary>
/// Listens to the SafeMem meter the way an OpenTelemetry exporter does, and prints the last value of every
/// instrument for every named block instance.
/// </summary>
internal sealed class TelemetryReport : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly SortedDictionary<string, (string Unit, double Value)> _latest = new(StringComparer.Ordinal);

    public TelemetryReport()
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

    public void Print(TextWriter output)
    {
        _latest.Clear();
        _listener.RecordObservableInstruments();
        output.WriteLine($"## Telemetry: what meter '{SafeMemMetrics.MeterName}' publishes right now (live blocks only)");
        foreach ((string key, (string unit, double value)) in _latest)
        {
            output.WriteLine($"  {key,-86} {value,12:N0} {unit}");
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string name = "?";
        var extra = new List<string>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == SafeMemTags.Name)
            {
                name = tag.Value?.ToString() ?? "?";
            }
            else
            {
                extra.Add($"{tag.Key}={tag.Value}");
            }
        }

        string suffix = extra.Count == 0 ? string.Empty : " " + string.Join(",", extra);
        _latest[$"{instrument.Name} [{name}]{suffix}"] = (instrument.Unit ?? string.Empty, value);
    }
}
