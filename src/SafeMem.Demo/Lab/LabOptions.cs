using System.Globalization;

namespace SafeMem.Demo.Lab;

/// <summary>The demo's command line, parsed. <see cref="Parse"/> never throws: bad input comes back as <see cref="Error"/>.</summary>
internal sealed record LabOptions
{
    public const int UsageExitCode = 2;

    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(20);

    public static readonly TimeSpan QuickDuration = TimeSpan.FromSeconds(4);

    public static readonly TimeSpan MaximumDuration = TimeSpan.FromMinutes(10);

    public const string DefaultOutput = "leak-lab-report.html";

    public TimeSpan Duration { get; init; } = DefaultDuration;

    public IReadOnlyList<Scenario> Scenarios { get; init; } = [];

    public string Output { get; init; } = DefaultOutput;

    public bool Help { get; init; }

    /// <summary>
    /// With <c>--metrics-port</c>: in the lab, the first of the ports its variants serve their SafeMem meter on (see
    /// <see cref="MetricsPortOf"/>); in a child, the port that child serves on.
    /// </summary>
    public int? MetricsPort { get; init; }

    /// <summary>Set in a child process: run this one variant and report on standard output.</summary>
    public (Scenario Scenario, VariantKind Kind)? Child { get; init; }

    /// <summary>A child's plan, given by its parent.</summary>
    public LabPlan? ChildPlan { get; init; }

    public string? Error { get; init; }

    public LabPlan Plan => ChildPlan ?? LabPlan.ForDuration(Duration);

    public static string Usage(IReadOnlyList<Scenario> catalog) => $"""
        SafeMem leak lab: each scenario runs a classic .NET leak and its SafeMem fix side by side, each in its own
        process, and charts retained memory and SafeMem's telemetry over time.

        Usage: dotnet run --project src/SafeMem.Demo [-- options]

        Options:
          --duration <seconds>   how long the lab runs (scenarios run at the same time); default {DefaultDuration.TotalSeconds:F0}, at most {MaximumDuration.TotalSeconds:F0}
          --quick                a {QuickDuration.TotalSeconds:F0}-second run, for CI (a later --duration wins)
          --scenario <name>      run only this scenario (repeat, or separate with commas); default: all
                                 scenarios: {string.Join(", ", catalog.Select(s => s.Key))}
          --output <path>        where to write the HTML report; default ./{DefaultOutput}
          --metrics-port <port>  serve each variant's SafeMem meter for Prometheus (OpenTelemetry's exporter) at
                                 http://127.0.0.1:<port>/metrics and the ports after it, one per variant, while it
                                 runs; the lab lists them before it starts (see docs/operations/alerts.md)
          --help                 show this help

        Exit code: 0 when no SafeMem variant grew, 1 when one grew or a variant failed, 2 for a bad command line
        (an --output the report cannot be written to included, checked before the run).
        """;

    public static LabOptions Parse(IReadOnlyList<string> args, IReadOnlyList<Scenario> catalog)
    {
        var options = new LabOptions();
        var chosen = new List<Scenario>();
        int? steps = null;
        int? intervalMs = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? Value()
            {
                if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    return args[++i];
                }

                return null;
            }

            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    options = options with { Help = true };
                    break;
                case "--quick":
                    options = options with { Duration = QuickDuration };
                    break;
                case "--duration":
                    string? duration = Value();
                    if (!double.TryParse(duration, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
                        || !double.IsFinite(seconds) || seconds < 1 || seconds > MaximumDuration.TotalSeconds)
                    {
                        return Fail($"--duration needs a number of seconds from 1 to {MaximumDuration.TotalSeconds:F0} (got '{duration}').");
                    }

                    options = options with { Duration = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--scenario":
                    string? names = Value();
                    if (names is null)
                    {
                        return Fail($"--scenario needs a name: {string.Join(", ", catalog.Select(s => s.Key))}.");
                    }

                    foreach (string name in names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (Find(catalog, name) is not { } scenario)
                        {
                            return Fail($"Unknown scenario '{name}'. Scenarios: {string.Join(", ", catalog.Select(s => s.Key))}.");
                        }

                        chosen.Add(scenario);
                    }

                    break;
                case "--output":
                    string? output = Value();
                    if (string.IsNullOrWhiteSpace(output))
                    {
                        return Fail("--output needs a file path.");
                    }

                    options = options with { Output = output };
                    break;
                case "--metrics-port":
                    string? port = Value();
                    if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int first) || first < 1024 || first > ushort.MaxValue)
                    {
                        return Fail($"--metrics-port needs a port number from 1024 to {ushort.MaxValue} (got '{port}').");
                    }

                    options = options with { MetricsPort = first };
                    break;
                case ChildProtocol.Option:
                    Scenario? child = i + 1 < args.Count ? Find(catalog, args[++i]) : null;
                    VariantKind? kind = i + 1 < args.Count ? args[++i] switch { "naive" => VariantKind.Naive, "safemem" => VariantKind.SafeMem, _ => null } : null;
                    if (child is null || kind is null)
                    {
                        return Fail($"{ChildProtocol.Option} needs a scenario and naive|safemem.");
                    }

                    options = options with { Child = (child, kind.Value) };
                    break;
                case "--steps" when int.TryParse(Value(), CultureInfo.InvariantCulture, out int value) && value > 0:
                    steps = value;
                    break;
                case "--interval-ms" when int.TryParse(Value(), CultureInfo.InvariantCulture, out int value) && value >= 0:
                    intervalMs = value;
                    break;
                default:
                    // A bare scenario name still works, as `dotnet run --project src/SafeMem.Demo -- events` did before options existed.
                    if (!arg.StartsWith('-') && Find(catalog, arg) is { } bare)
                    {
                        chosen.Add(bare);
                        break;
                    }

                    return Fail(arg.StartsWith('-')
                        ? $"Unknown option '{arg}'."
                        : $"Unknown argument '{arg}'. Scenarios: {string.Join(", ", catalog.Select(s => s.Key))}.");
            }
        }

        if (options.Child is not null)
        {
            if (steps is null || intervalMs is null)
            {
                return Fail($"{ChildProtocol.Option} needs --steps and --interval-ms.");
            }

            options = options with { ChildPlan = new LabPlan(steps.Value, TimeSpan.FromMilliseconds(intervalMs.Value)) };
        }
        else if (steps is not null || intervalMs is not null)
        {
            return Fail($"--steps and --interval-ms are for {ChildProtocol.Option} only; use --duration.");
        }

        options = options with { Scenarios = chosen.Count == 0 ? catalog : [.. chosen.Distinct()] };
        if (options.Child is null && options.MetricsPort + (2 * options.Scenarios.Count) - 1 > ushort.MaxValue)
        {
            return Fail($"--metrics-port {options.MetricsPort}: the run needs {2 * options.Scenarios.Count} ports from there, past {ushort.MaxValue}.");
        }

        return options;
    }

    /// <summary>
    /// The port a variant of the lab serves its SafeMem meter on with <c>--metrics-port</c>, or <see langword="null"/>
    /// without it: two per scenario in the order the run lists them, the naive variant first.
    /// </summary>
    public int? MetricsPortOf(Scenario scenario, VariantKind kind)
    {
        int index = Scenarios.ToList().IndexOf(scenario);
        return MetricsPort is not { } first || index < 0 ? null : first + (2 * index) + (kind == VariantKind.Naive ? 0 : 1);
    }

    private static Scenario? Find(IReadOnlyList<Scenario> catalog, string name) =>
        catalog.FirstOrDefault(s => s.Key.Equals(name, StringComparison.OrdinalIgnoreCase));

    private static LabOptions Fail(string error) => new() { Error = error };
}
