using System.Diagnostics;

namespace SafeMem.Demo.Lab;

/// <summary>
/// Runs one variant in the current process: a baseline sample, then one sample after every step, each taken after
/// full blocking, compacting collections so it counts only what is still referenced.
/// </summary>
/// <remarks>
/// Meant to be the only thing the process does (the lab starts one child process per variant), so the heap it
/// measures holds this variant's state and nothing of another scenario's.
/// </remarks>
internal static class VariantHost
{
    public static VariantResult Run(Scenario scenario, VariantKind kind, LabPlan plan, Action<Sample> onSample, CancellationToken cancellationToken = default)
    {
        var samples = new List<Sample>(plan.Steps + 1);
        using var telemetry = new TelemetryReader();
        using Variant variant = scenario.Create(kind);

        Sample Measure(int step, double seconds)
        {
            Heap.Collect();
            long retained = GC.GetTotalMemory(forceFullCollection: false);
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            variant.Observe(values);
            telemetry.ReadInto(values);
            foreach (CounterChart chart in scenario.Charts.Where(c => c.ZeroWhenAbsent))
            {
                // An instrument with one series per tag value (leaks per type) publishes nothing until the first one,
                // which a dashboard shows as no leaks: so does the lab.
                string? key = kind == VariantKind.Naive ? chart.NaiveKey : chart.SafeMemKey;
                if (key is not null && key.StartsWith("safemem.", StringComparison.Ordinal))
                {
                    values.TryAdd(key, 0);
                }
            }

            var sample = new Sample(step, seconds, retained, values);
            samples.Add(sample);
            onSample(sample);
            return sample;
        }

        Sample first = Measure(0, 0);
        var clock = Stopwatch.StartNew();
        for (int step = 1; step <= plan.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            variant.Step(step);
            Measure(step, clock.Elapsed.TotalSeconds);

            // Paced like a service handling a steady load; a step that ran late is not made up by sleeping less later.
            TimeSpan wait = (plan.Interval * step) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
        }

        string[] notes = [.. variant.Conclude(first, samples[^1])];
        return new VariantResult(kind, samples, notes, Error: null) { LeakReports = variant.LeakReports(samples[^1]), LeakAnalysis = variant.LeakAnalysis() };
    }
}
