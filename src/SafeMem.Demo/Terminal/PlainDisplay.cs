using System.Globalization;
using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Terminal;

/// <summary>Output that is not a terminal (a CI log, a file): plain lines, a few per variant, then the summary.</summary>
internal sealed class PlainDisplay(TextWriter output) : ILabDisplay
{
    private readonly Lock _lock = new();

    public async Task<LabResult> RunAsync(IReadOnlyList<Scenario> scenarios, LabPlan plan, Func<ILabObserver, Task<LabResult>> run)
    {
        output.WriteLine($"SafeMem leak lab: {scenarios.Count} scenarios, each variant in its own process, {plan.Steps} steps of {plan.Interval.TotalMilliseconds:F0} ms.");
        var figures = new LiveFigures();
        figures.SampleArrived += (scenario, kind, sample) =>
        {
            // A line at each quarter of the run, so a log shows the trend without a line per step.
            int quarter = Math.Max(1, plan.Steps / 4);
            if (sample.Step == 0 || (sample.Step % quarter != 0 && sample.Step != plan.Steps))
            {
                return;
            }

            string telemetry = kind == VariantKind.SafeMem ? "  " + figures.Telemetry(scenario) : string.Empty;
            lock (_lock)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {scenario.Key,-12} {Name(kind),-8} step {sample.Step,4}/{plan.Steps}  retained {figures.Growth(scenario, kind),9}{telemetry}"));
            }
        };
        return await run(figures);
    }

    public void Summarize(LabResult result, string reportPath)
    {
        output.WriteLine();
        output.WriteLine("Retained memory growth, naive vs SafeMem (SafeMem's second half is judged against the limit):");
        output.WriteLine($"  {"scenario",-12} {"naive",10} {"SafeMem",10} {"2nd half",10} {"limit",10}  verdict");
        foreach (ScenarioResult scenario in result.Scenarios)
        {
            string verdict = !scenario.Naive.Succeeded || !scenario.SafeMem.Succeeded ? "FAILED TO RUN"
                : scenario.SafeMemGrew ? "SAFEMEM GREW"
                : scenario.NaiveFlat ? "flat (the naive variant did not leak: run longer)"
                : "flat";
            output.WriteLine(
                $"  {scenario.Scenario.Key,-12} {Format.Growth(scenario.Naive.Growth),10} {Format.Growth(scenario.SafeMem.Growth),10} " +
                $"{Format.Growth(scenario.SafeMem.LateGrowth),10} {Format.Megabytes(scenario.Threshold),10}  {verdict}");
        }

        foreach (ScenarioResult scenario in result.Scenarios)
        {
            output.WriteLine($"{scenario.Scenario.Title}:");
            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem })
            {
                foreach (string note in variant.Notes)
                {
                    output.WriteLine($"  {Name(variant.Kind)}: {note}");
                }

                if (variant.Error is { } error)
                {
                    output.WriteLine($"  {Name(variant.Kind)} FAILED: {error}");
                }
            }

            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakReports.Count > 0))
            {
                output.WriteLine($"  {Name(variant.Kind)}: {LeakReportGroup.Introduce(variant.LeakReports)}");
                foreach (LeakReportGroup group in variant.LeakReports.Take(LeakReportGroup.Shown))
                {
                    output.WriteLine($"    {group.Heading}:");
                    foreach (string line in group.Excerpt())
                    {
                        output.WriteLine($"      {line}");
                    }
                }
            }

            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakAnalysis is not null))
            {
                output.WriteLine($"  {Name(variant.Kind)}: LeakWatcher.AnalyzeAsync explained what holds the retained objects:");
                foreach (string line in variant.LeakAnalysis!.Split('\n'))
                {
                    output.WriteLine($"    {line}");
                }
            }
        }

        output.WriteLine($"Report: {reportPath}");
        output.WriteLine(result.ExitCode == 0 ? "No SafeMem variant grew." : "A SafeMem variant grew or a variant failed (exit code 1).");
    }

    private static string Name(VariantKind kind) => kind == VariantKind.Naive ? "naive" : "SafeMem";
}
