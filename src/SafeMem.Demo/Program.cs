using SafeMem.Demo.Lab;
using SafeMem.Demo.Report;
using SafeMem.Demo.Scenarios;
using SafeMem.Demo.Terminal;
using Spectre.Console;

// The SafeMem leak lab. Every scenario runs a classic .NET leak (the naive variant) and the same work through a
// SafeMem block, each variant in a child process of this program, sampling retained memory and SafeMem's telemetry
// after every step. Then a summary, and an HTML report with the charts. See --help.
IReadOnlyList<Scenario> catalog = ScenarioCatalog.All;
LabOptions options = LabOptions.Parse(args, catalog);
if (options.Error is { } error)
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine("Run with --help to see the options.");
    return LabOptions.UsageExitCode;
}

if (options.Help)
{
    Console.WriteLine(LabOptions.Usage(catalog));
    return 0;
}

if (options.Child is var (childScenario, childKind))
{
    using IDisposable? endpoint = options.MetricsPort is { } port ? PrometheusEndpoint.Start(port) : null;
    return ChildProtocol.Serve(childScenario, childKind, options.Plan, Console.Out);
}

// Checked now, not after the run: a report that cannot be written would otherwise fail only once every variant has run.
if (HtmlReport.CannotWrite(options.Output) is { } unwritable)
{
    Console.Error.WriteLine(unwritable);
    return LabOptions.UsageExitCode;
}

ILabDisplay display = Console.IsOutputRedirected ? new PlainDisplay(Console.Out) : new TerminalDisplay(AnsiConsole.Console);
if (options.MetricsPort is not null)
{
    Console.WriteLine("Prometheus endpoints, one per variant, serving its SafeMem meter while it runs:");
    foreach (Scenario scenario in options.Scenarios)
    {
        foreach (VariantKind kind in new[] { VariantKind.Naive, VariantKind.SafeMem })
        {
            Console.WriteLine($"  {scenario.Key,-12} {(kind == VariantKind.Naive ? "naive" : "safemem"),-8} {PrometheusEndpoint.Url(options.MetricsPortOf(scenario, kind)!.Value)}");
        }
    }
}

var runner = new ChildProcessRunner(Environment.ProcessPath, typeof(LabRunner).Assembly.Location, options.MetricsPortOf);
LabResult result = await display.RunAsync(options.Scenarios, options.Plan, observer => LabRunner.RunAsync(options.Scenarios, options.Plan, runner, observer));
string report;
try
{
    report = HtmlReport.Write(result, options.Output);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    // The path was writable when the run began; something changed it since (a folder removed, a disk filled).
    Console.Error.WriteLine($"--output '{options.Output}': the report could not be written ({e.Message}).");
    return LabOptions.UsageExitCode;
}

display.Summarize(result, report);
return result.ExitCode;
