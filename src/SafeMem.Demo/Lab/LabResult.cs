namespace SafeMem.Demo.Lab;

/// <summary>A whole lab run.</summary>
internal sealed record LabResult(LabPlan Plan, DateTimeOffset StartedAt, TimeSpan Elapsed, IReadOnlyList<ScenarioResult> Scenarios)
{
    /// <summary>0 when every variant ran and no SafeMem variant grew; 1 otherwise (what CI's smoke run checks).</summary>
    public int ExitCode => Scenarios.Any(s => s.Failed) ? 1 : 0;
}
