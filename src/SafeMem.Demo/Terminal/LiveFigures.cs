using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Terminal;

/// <summary>The latest sample of every variant, written by the runner threads and read by the display.</summary>
internal sealed class LiveFigures : ILabObserver
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(Scenario, VariantKind), (Sample First, Sample Last)> _latest = [];
    private readonly Dictionary<(Scenario, VariantKind), VariantResult> _finished = [];

    public event Action<Scenario, VariantKind, Sample>? SampleArrived;

    public void OnSample(Scenario scenario, VariantKind kind, Sample sample)
    {
        lock (_lock)
        {
            _latest[(scenario, kind)] = _latest.TryGetValue((scenario, kind), out var known) ? (known.First, sample) : (sample, sample);
        }

        SampleArrived?.Invoke(scenario, kind, sample);
    }

    public void OnFinished(Scenario scenario, VariantResult result)
    {
        lock (_lock)
        {
            _finished[(scenario, result.Kind)] = result;
        }
    }

    public (Sample First, Sample Last)? Latest(Scenario scenario, VariantKind kind)
    {
        lock (_lock)
        {
            return _latest.TryGetValue((scenario, kind), out var samples) ? samples : null;
        }
    }

    public string? Error(Scenario scenario, VariantKind kind)
    {
        lock (_lock)
        {
            return _finished.TryGetValue((scenario, kind), out VariantResult? result) ? result.Error : null;
        }
    }

    /// <summary>The retained growth so far, <c>+3.2 MB</c>, or a dash before the first step.</summary>
    public string Growth(Scenario scenario, VariantKind kind) =>
        Latest(scenario, kind) is { } s && s.Last.Step > 0 ? Format.Growth(s.Last.RetainedBytes - s.First.RetainedBytes) : "-";

    /// <summary>The scenario's charted SafeMem figures, as the telemetry last reported them.</summary>
    public string Telemetry(Scenario scenario)
    {
        if (Latest(scenario, VariantKind.SafeMem) is not { } s)
        {
            return "-";
        }

        return string.Join("  ", scenario.Charts
            .Where(c => c.SafeMemKey.StartsWith("safemem.", StringComparison.Ordinal) && s.Last.Value(c.SafeMemKey) is not null)
            .Take(3)
            .Select(c => $"{Shorten(c.Title)} {Format.Value(s.Last.Value(c.SafeMemKey)!.Value, c.Bytes)}"));
    }

    private static string Shorten(string title) => title.Split(" (")[0];
}
