using System.Globalization;
using SafeMem.Demo.Lab;
using SafeMem.Demo.Scenarios;

namespace SafeMem.Demo.Tests.Lab;

public sealed class LabOptionsTests
{
    private static readonly IReadOnlyList<Scenario> s_catalog = ScenarioCatalog.All;

    [Fact]
    public void Parse_NoArguments_RunsEveryScenarioForTheDefaultDuration()
    {
        LabOptions options = LabOptions.Parse([], s_catalog);

        Assert.Null(options.Error);
        Assert.Equal(s_catalog, options.Scenarios);
        Assert.Equal(LabOptions.DefaultDuration, options.Duration);
        Assert.Equal(LabOptions.DefaultOutput, options.Output);
        Assert.Equal(LabPlan.ForDuration(LabOptions.DefaultDuration), options.Plan);
    }

    [Fact]
    public void Parse_Quick_IsAShortRunThatALaterDurationOverrides()
    {
        Assert.Equal(LabOptions.QuickDuration, LabOptions.Parse(["--quick"], s_catalog).Duration);
        Assert.Equal(TimeSpan.FromSeconds(7), LabOptions.Parse(["--quick", "--duration", "7"], s_catalog).Duration);
        Assert.Equal(70, LabOptions.Parse(["--duration", "7"], s_catalog).Plan.Steps);
    }

    [Fact]
    public void Parse_Scenarios_RepeatedCommaSeparatedOrBare_InCatalogOrderOfMention()
    {
        LabOptions options = LabOptions.Parse(["--scenario", "events,cache", "--scenario", "EVENTS", "registries"], s_catalog);

        Assert.Null(options.Error);
        Assert.Equal(["events", "cache", "registries"], options.Scenarios.Select(s => s.Key));
    }

    [Fact]
    public void Parse_Output_IsKept()
    {
        Assert.Equal("out/report.html", LabOptions.Parse(["--output", "out/report.html"], s_catalog).Output);
    }

    [Theory]
    [InlineData("--frobnicate", "Unknown option '--frobnicate'")]
    [InlineData("nonsense", "Unknown argument 'nonsense'")]
    [InlineData("--scenario", "--scenario needs a name")]
    [InlineData("--scenario,caches", "Unknown scenario 'caches'")]
    [InlineData("--duration", "--duration needs a number of seconds")]
    [InlineData("--duration,0", "--duration needs a number of seconds")]
    [InlineData("--duration,abc", "--duration needs a number of seconds")]
    [InlineData("--duration,100000", "--duration needs a number of seconds")]
    [InlineData("--output", "--output needs a file path")]
    [InlineData("--steps,5", "--steps and --interval-ms are for --child only")]
    [InlineData("--child,cache", "--child needs a scenario and naive|safemem")]
    [InlineData("--child,cache,safemem", "--child needs --steps and --interval-ms")]
    public void Parse_BadInput_GivesAClearError(string arguments, string expected)
    {
        LabOptions options = LabOptions.Parse(arguments.Split(','), s_catalog);

        Assert.NotNull(options.Error);
        Assert.StartsWith(expected, options.Error);
    }

    [Fact]
    public void Parse_Child_GetsItsPlanFromTheParent()
    {
        LabOptions options = LabOptions.Parse(["--child", "events", "safemem", "--steps", "12", "--interval-ms", "50"], s_catalog);

        Assert.Null(options.Error);
        Assert.Equal("events", options.Child!.Value.Scenario.Key);
        Assert.Equal(VariantKind.SafeMem, options.Child.Value.Kind);
        Assert.Equal(new LabPlan(12, TimeSpan.FromMilliseconds(50)), options.Plan);
    }

    [Fact]
    public void ChildArguments_ParseBackToTheSameVariantAndPlan()
    {
        var plan = new LabPlan(33, TimeSpan.FromMilliseconds(75));
        Scenario scenario = s_catalog[2];

        LabOptions options = LabOptions.Parse([.. ChildProtocol.Arguments(scenario, VariantKind.Naive, plan)], s_catalog);

        Assert.Equal((scenario, VariantKind.Naive), options.Child);
        Assert.Equal(plan, options.Plan);
    }

    [Fact]
    public void Parse_MetricsPort_GivesTwoPortsPerScenario_InRunOrder_NaiveFirst()
    {
        LabOptions options = LabOptions.Parse(["--scenario", "events,cache", "--metrics-port", "19500"], s_catalog);

        Assert.Null(options.Error);
        Scenario events = options.Scenarios[0];
        Scenario cache = options.Scenarios[1];
        Assert.Equal(19500, options.MetricsPortOf(events, VariantKind.Naive));
        Assert.Equal(19501, options.MetricsPortOf(events, VariantKind.SafeMem));
        Assert.Equal(19502, options.MetricsPortOf(cache, VariantKind.Naive));
        Assert.Equal(19503, options.MetricsPortOf(cache, VariantKind.SafeMem));
        Assert.Null(options.MetricsPortOf(s_catalog.Single(s => s.Key == "registries"), VariantKind.Naive)); // not in this run
        Assert.Null(LabOptions.Parse([], s_catalog).MetricsPortOf(events, VariantKind.Naive));
    }

    [Theory]
    [InlineData("80", "--metrics-port needs a port number from 1024 to 65535 (got '80').")]
    [InlineData("http", "--metrics-port needs a port number from 1024 to 65535 (got 'http').")]
    public void Parse_MetricsPort_OutOfRange_SaysWhy(string port, string error)
    {
        Assert.Equal(error, LabOptions.Parse(["--metrics-port", port], s_catalog).Error);
    }

    [Fact]
    public void Parse_MetricsPort_TooHighForEveryVariant_SaysHowManyItNeeds()
    {
        // One port per variant: naive and SafeMem of every scenario in the catalog.
        int needed = 2 * s_catalog.Count;

        Assert.Equal($"--metrics-port 65535: the run needs {needed} ports from there, past 65535.", LabOptions.Parse(["--metrics-port", "65535"], s_catalog).Error);
        Assert.Null(LabOptions.Parse(["--metrics-port", (65536 - needed).ToString(CultureInfo.InvariantCulture)], s_catalog).Error);
    }

    [Fact]
    public void ChildArguments_WithAMetricsPort_ParseBackToThatPort()
    {
        var plan = new LabPlan(33, TimeSpan.FromMilliseconds(75));

        LabOptions options = LabOptions.Parse([.. ChildProtocol.Arguments(s_catalog[0], VariantKind.SafeMem, plan, 20001)], s_catalog);

        Assert.Null(options.Error);
        Assert.Equal(20001, options.MetricsPort);
        Assert.Null(LabOptions.Parse([.. ChildProtocol.Arguments(s_catalog[0], VariantKind.SafeMem, plan)], s_catalog).MetricsPort);
    }

    [Fact]
    public void Usage_NamesEveryOptionAndScenario()
    {
        string usage = LabOptions.Usage(s_catalog);

        foreach (string word in new[] { "--duration", "--quick", "--scenario", "--output", "--metrics-port", "--help" }.Concat(s_catalog.Select(s => s.Key)))
        {
            Assert.Contains(word, usage);
        }
    }
}
