using SafeMem.Demo;
using SafeMem.Demo.Scenarios;
using SafeMem.Telemetry;

// Each scenario runs the classic leak first (the "before"), then the same workload through a SafeMem block (the
// "after"), and prints what the garbage collector could reclaim. The run ends with what SafeMem published through
// System.Diagnostics.Metrics, as an OpenTelemetry exporter would see it.
using var telemetry = new TelemetryReport();

IScenario[] scenarios =
[
    new CacheScenario(),
    new EventsScenario(),
    new AttachmentScenario(),
    new RegistryScenario(),
];

string? only = args.Length > 0 ? args[0] : null;
if (only is not null && !scenarios.Any(s => s.Key.Equals(only, StringComparison.OrdinalIgnoreCase)))
{
    Console.Error.WriteLine($"Unknown scenario '{only}'. Scenarios: {string.Join(", ", scenarios.Select(s => s.Key))}.");
    return 1;
}

Console.WriteLine($"SafeMem {SafeMemMetrics.MeterVersion} demo: one classic .NET memory leak per block, and its fix.");
Console.WriteLine();

foreach (IScenario scenario in scenarios)
{
    if (only is not null && !scenario.Key.Equals(only, StringComparison.OrdinalIgnoreCase))
    {
        continue;
    }

    Console.WriteLine($"## {scenario.Title}");
    scenario.Run(Console.Out);
    Console.WriteLine();
}

telemetry.Print(Console.Out);
foreach (IScenario scenario in scenarios)
{
    scenario.Dispose();
}

return 0;
