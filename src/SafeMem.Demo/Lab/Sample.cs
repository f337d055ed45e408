namespace SafeMem.Demo.Lab;

/// <summary>What the lab read after one step of a variant.</summary>
/// <param name="Step">0 before the first step (the baseline), then 1, 2, ...</param>
/// <param name="Seconds">Time since the variant's first step started.</param>
/// <param name="RetainedBytes">Managed heap after full blocking, compacting collections: what the process still references.</param>
/// <param name="Values">SafeMem telemetry read through a MeterListener, and the variant's own figures, by key.</param>
internal sealed record Sample(int Step, double Seconds, long RetainedBytes, Dictionary<string, double> Values)
{
    public double? Value(string? key) => key is not null && Values.TryGetValue(key, out double value) ? value : null;
}
