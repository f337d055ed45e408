namespace SafeMem.Demo.Lab;

/// <summary>Everything one variant's run produced: its samples (baseline first), its conclusions, or why it failed.</summary>
internal sealed record VariantResult(VariantKind Kind, IReadOnlyList<Sample> Samples, IReadOnlyList<string> Notes, string? Error)
{
    /// <summary>The leak reports the variant's trackers raised, grouped by creation stack; empty for a variant without a tracker.</summary>
    public IReadOnlyList<LeakReportGroup> LeakReports { get; init; } = [];

    /// <summary>What a leak watcher of the variant explained at the end of the run (its analysis report), or <see langword="null"/>.</summary>
    public string? LeakAnalysis { get; init; }

    /// <summary>The number of leak reports in all groups.</summary>
    public int LeakReportCount => LeakReports.Sum(g => g.Count);

    public bool Succeeded => Error is null && Samples.Count > 1;

    /// <summary>Retained memory at the end minus the baseline before the first step.</summary>
    public long Growth => Samples.Count == 0 ? 0 : Samples[^1].RetainedBytes - Samples[0].RetainedBytes;

    /// <summary>Growth over the second half of the run, from a slope robust to outliers (<see cref="GrowthCriterion"/>).</summary>
    public long LateGrowth => GrowthCriterion.LateGrowth(Samples);

    public static VariantResult Failed(VariantKind kind, IReadOnlyList<Sample> samples, string error) => new(kind, samples, [], error);
}
