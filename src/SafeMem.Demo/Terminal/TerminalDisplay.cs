using SafeMem.Demo.Lab;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SafeMem.Demo.Terminal;

/// <summary>A terminal: one progress bar per scenario and a table of memory and telemetry, refreshed as samples arrive.</summary>
internal sealed class TerminalDisplay(IAnsiConsole console) : ILabDisplay
{
    public async Task<LabResult> RunAsync(IReadOnlyList<Scenario> scenarios, LabPlan plan, Func<ILabObserver, Task<LabResult>> run)
    {
        console.MarkupLine($"[bold]SafeMem leak lab[/]: {scenarios.Count} scenarios, each variant in its own process, {plan.Steps} steps of {plan.Interval.TotalMilliseconds:F0} ms.");
        var figures = new LiveFigures();
        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .UseRenderHook((progress, _) => new Rows(progress, Table(scenarios, figures)))
            .StartAsync(async context =>
            {
                var tasks = scenarios.ToDictionary(s => s, s => context.AddTask(Markup.Escape(s.Title), maxValue: 2.0 * (plan.Steps + 1)));
                figures.SampleArrived += (scenario, _, _) => tasks[scenario].Increment(1);
                LabResult result = await run(figures);
                foreach (ProgressTask task in tasks.Values)
                {
                    task.Value = task.MaxValue;
                }

                return result;
            });
    }

    public void Summarize(LabResult result, string reportPath)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Retained memory growth, naive vs SafeMem[/]");
        table.AddColumn("scenario");
        table.AddColumn(new TableColumn("naive").RightAligned());
        table.AddColumn(new TableColumn("SafeMem").RightAligned());
        table.AddColumn(new TableColumn("SafeMem, 2nd half").RightAligned());
        table.AddColumn("verdict");
        foreach (ScenarioResult scenario in result.Scenarios)
        {
            table.AddRow(
                new Markup($"[bold]{Markup.Escape(scenario.Scenario.Title)}[/]\n[grey]{Markup.Escape(scenario.Scenario.NaiveLabel)}\nvs {Markup.Escape(scenario.Scenario.SafeMemLabel)}[/]"),
                new Markup($"[red]{Format.Growth(scenario.Naive.Growth)}[/]"),
                new Markup($"[green]{Format.Growth(scenario.SafeMem.Growth)}[/]"),
                new Markup($"{Format.Growth(scenario.SafeMem.LateGrowth)}\n[grey]limit {Format.Megabytes(scenario.Threshold)}[/]"),
                new Markup(Verdict(scenario)));
        }

        console.Write(table);
        foreach (ScenarioResult scenario in result.Scenarios)
        {
            console.MarkupLine($"[bold]{Markup.Escape(scenario.Scenario.Title)}[/]");
            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem })
            {
                string label = variant.Kind == VariantKind.Naive ? "[red]naive:[/]" : "[green]SafeMem:[/]";
                foreach (string note in variant.Notes)
                {
                    console.MarkupLine($"  {label} {Markup.Escape(note)}");
                }

                if (variant.Error is { } error)
                {
                    console.MarkupLine($"  [red]{variant.Kind} failed: {Markup.Escape(error)}[/]");
                }
            }

            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakReports.Count > 0))
            {
                string label = variant.Kind == VariantKind.Naive ? "[red]naive:[/]" : "[green]SafeMem:[/]";
                console.MarkupLine($"  {label} {Markup.Escape(LeakReportGroup.Introduce(variant.LeakReports))}");
                foreach (LeakReportGroup group in variant.LeakReports.Take(LeakReportGroup.Shown))
                {
                    console.MarkupLine($"    {Markup.Escape(group.Heading)}:");
                    foreach (string line in group.Excerpt())
                    {
                        console.MarkupLine($"      [grey]{Markup.Escape(line)}[/]");
                    }
                }
            }

            foreach (VariantResult variant in new[] { scenario.Naive, scenario.SafeMem }.Where(v => v.LeakAnalysis is not null))
            {
                string label = variant.Kind == VariantKind.Naive ? "[red]naive:[/]" : "[green]SafeMem:[/]";
                console.MarkupLine($"  {label} LeakWatcher.AnalyzeAsync explained what holds the retained objects:");
                foreach (string line in variant.LeakAnalysis!.Split('\n'))
                {
                    console.MarkupLine($"    [grey]{Markup.Escape(line)}[/]");
                }
            }
        }

        console.WriteLine();
        console.MarkupLine($"Report: [link]{Markup.Escape(reportPath)}[/]");
        console.MarkupLine(result.ExitCode == 0
            ? "[green]No SafeMem variant grew.[/]"
            : "[red]A SafeMem variant grew or a variant failed (exit code 1).[/]");
    }

    private static string Verdict(ScenarioResult scenario) =>
        !scenario.Naive.Succeeded || !scenario.SafeMem.Succeeded ? "[red]failed to run[/]"
        : scenario.SafeMemGrew ? "[red]SafeMem GREW[/]"
        : scenario.NaiveFlat ? "[yellow]flat, but the naive variant did not leak (run longer)[/]"
        : "[green]flat[/]";

    private static IRenderable Table(IReadOnlyList<Scenario> scenarios, LiveFigures figures)
    {
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("scenario");
        table.AddColumn(new TableColumn("naive retained").RightAligned());
        table.AddColumn(new TableColumn("SafeMem retained").RightAligned());
        table.AddColumn("SafeMem telemetry (MeterListener)");
        foreach (Scenario scenario in scenarios)
        {
            table.AddRow(
                Markup.Escape(scenario.Title),
                $"[red]{figures.Growth(scenario, VariantKind.Naive)}[/]",
                $"[green]{figures.Growth(scenario, VariantKind.SafeMem)}[/]",
                Markup.Escape(figures.Telemetry(scenario)));
        }

        return table;
    }
}
