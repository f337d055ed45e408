namespace SafeMem.Demo.Lab;

/// <summary>How long each variant runs: <paramref name="Steps"/> ticks, one every <paramref name="Interval"/>.</summary>
/// <remarks>
/// The work is fixed per step, not per second: a slow or busy machine takes longer, but both variants still do the
/// same work and the growth criterion (per step) is unaffected.
/// </remarks>
internal sealed record LabPlan(int Steps, TimeSpan Interval)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    public static LabPlan ForDuration(TimeSpan duration) =>
        new(Math.Max(10, (int)Math.Round(duration / DefaultInterval)), DefaultInterval);
}
