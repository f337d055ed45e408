using System.Diagnostics.Metrics;
using SafeMem.Telemetry;

namespace SafeMem.Tests.Infrastructure;

/// <summary>One value an instrument published, with its tags.</summary>
public sealed record RecordedMeasurement(Instrument Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>The block instance's name tag.</summary>
    public string? Name => Tags.TryGetValue(SafeMemTags.Name, out object? name) ? name as string : null;

    /// <summary>True when this came from <paramref name="instrument"/> for block <paramref name="name"/> with all <paramref name="tags"/>.</summary>
    public bool Matches(string instrument, string name, params (string Key, object? Value)[] tags)
        => Instrument.Name == instrument
            && Name == name
            && tags.All(t => Tags.TryGetValue(t.Key, out object? v) && Equals(v?.ToString(), t.Value?.ToString()));
}
