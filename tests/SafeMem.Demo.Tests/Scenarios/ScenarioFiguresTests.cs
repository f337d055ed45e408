using System.Globalization;
using System.Text.RegularExpressions;
using SafeMem.Demo.Lab;
using SafeMem.Demo.Scenarios;

namespace SafeMem.Demo.Tests.Scenarios;

/// <summary>
/// The figures each scenario shows are exact and the same on every run: they depend on the step, not on timing or on
/// which other scenarios ran (each variant runs in a process of its own; here, one after another).
/// </summary>
[Collection(LabRunCollection.Name)]
public sealed class ScenarioFiguresTests(LabRunFixture run)
{
    [Theory]
    [MemberData(nameof(Variants))]
    public void Variant_ThousandsOfSteps_RunsWithoutFailing(string scenario, bool naive)
    {
        // A long --duration must not break a scenario (step-derived ids, prices or sizes that overflow).
        using Variant variant = ScenarioCatalog.All.Single(s => s.Key == scenario).Create(naive ? VariantKind.Naive : VariantKind.SafeMem);
        for (int step = 1; step <= 1_000; step++)
        {
            variant.Step(step);
        }

        var figures = new Dictionary<string, double>();
        variant.Observe(figures);
    }

    public static TheoryData<string, bool> Variants()
    {
        var data = new TheoryData<string, bool>();
        foreach (Scenario scenario in ScenarioCatalog.All)
        {
            data.Add(scenario.Key, true);
            data.Add(scenario.Key, false);
        }

        return data;
    }

    [Fact]
    public void Cache_WeightNeverExceedsTheBudget_AndTheNaiveDictionaryKeepsEveryPage()
    {
        ScenarioResult cache = run.Scenario("cache");

        foreach (Sample sample in cache.SafeMem.Samples.Skip(1))
        {
            Assert.InRange(sample.Value("safemem.cache.weight")!.Value, 1, 2 * 1024 * 1024);
        }

        Sample naive = cache.Naive.Samples[^1];
        Assert.Equal(naive.Value("entries")! * 2048, naive.Value("bytes"));
        Assert.True(naive.Value("entries") > cache.SafeMem.Samples[^1].Value("safemem.cache.entry.count"));
        Assert.Contains(cache.SafeMem.Notes, note => note.Contains("bytes per entry", StringComparison.Ordinal));
    }

    [Fact]
    public void Events_LiveSubscriptionsAreTheOpenWindows_AtEveryStep()
    {
        ScenarioResult events = run.Scenario("events");

        foreach (Sample sample in events.SafeMem.Samples)
        {
            // 5 windows a step, each open for 10 steps: after a full collection only the open ones are subscribed.
            Assert.Equal(5 * Math.Min(sample.Step, 10), sample.Value("safemem.event.subscription.count") ?? 0);
            Assert.Equal(5 * Math.Max(0, sample.Step - 10), sample.Value("safemem.event.reclamations") ?? 0);
            Assert.Equal(0, sample.Value("closedRuns"));
        }

        foreach (Sample sample in events.Naive.Samples)
        {
            Assert.Equal(5 * sample.Step, sample.Value("subscriptions"));
        }

        Assert.True(events.Naive.Samples[^1].Value("closedRuns") > 0);
        Assert.All(new[] { events.Naive, events.SafeMem }, variant =>
            Assert.Contains(variant.Notes, note => note.StartsWith("Every closed window had received every price", StringComparison.Ordinal)));
    }

    [Fact]
    public void Attachments_RemovedControlsDieWithTheirEntries()
    {
        ScenarioResult attachments = run.Scenario("attachments");

        Sample safeMem = attachments.SafeMem.Samples[^1];
        Assert.Equal(100, safeMem.Value("safemem.attachment.entry.count"));
        Assert.Equal(0, safeMem.Value("removedAlive"));
        Assert.Equal(10 * (LabRunFixture.Plan.Steps - 10), safeMem.Value("safemem.attachment.reclamations"));

        Sample naive = attachments.Naive.Samples[^1];
        Assert.Equal(10 * LabRunFixture.Plan.Steps, naive.Value("entries"));
        Assert.Equal(64, naive.Value("removedAlive"));
    }

    [Fact]
    public void Registries_HoldTheActiveSessions_AndLookupsFindTheLiveInstance()
    {
        ScenarioResult registries = run.Scenario("registries");

        Assert.Equal(200, registries.SafeMem.Samples[^1].Value("safemem.registry.entry.count"));
        Assert.Equal(20 * (LabRunFixture.Plan.Steps - 10), registries.SafeMem.Samples[^1].Value("safemem.registry.reclamations"));
        Assert.Equal(20 * LabRunFixture.Plan.Steps, registries.Naive.Samples[^1].Value("entries"));
        Assert.All(new[] { registries.Naive, registries.SafeMem }, variant =>
            Assert.Contains(variant.Notes, note => note.StartsWith("Every lookup of an active session", StringComparison.Ordinal)));
    }

    [Fact]
    public void Disposal_EveryEarlyReturnLeaksASession_TheTrackerReportsEachOne_AndTheScopesDisposeThemAll()
    {
        ScenarioResult disposal = run.Scenario("disposal");

        foreach (Sample sample in disposal.Naive.Samples)
        {
            // 10 CSV exports (1 in 5 invalid) and 10 PDF exports (1 in 10 late) a step: 3 early returns, 3 sessions never
            // disposed, each found by the collection after its step, and each still pinning its buffer.
            Assert.Equal(3 * sample.Step, sample.Value("safemem.tracker.leaks"));
            Assert.Equal(17 * sample.Step, sample.Value("safemem.tracker.disposals"));
            Assert.Equal(20 * sample.Step, sample.Value("safemem.tracker.additions"));
            Assert.Equal(0, sample.Value("safemem.tracker.object.count"));
            Assert.Equal(Math.Min(32, 3 * sample.Step), sample.Value("abandonedAlive"));
        }

        Sample first = disposal.SafeMem.Samples[0];
        foreach (Sample sample in disposal.SafeMem.Samples)
        {
            Assert.Equal(0, sample.Value("safemem.tracker.leaks"));
            Assert.Equal(20 * sample.Step, sample.Value("safemem.tracker.disposals"));
            Assert.Equal(0, sample.Value("safemem.tracker.object.count"));
            Assert.Equal(0, sample.Value("abandonedAlive"));

            // Scopes are counted per name for the life of the process (and published from the first scope on): compare
            // with the run's baseline.
            Assert.Equal(2 * 20 * sample.Step, (sample.Value("safemem.scope.disposals") ?? 0) - (first.Value("safemem.scope.disposals") ?? 0));
            Assert.Equal(0, (sample.Value("safemem.scope.count") ?? 0) - (first.Value("safemem.scope.count") ?? 0));
        }

        int steps = LabRunFixture.Plan.Steps;
        Assert.Equal([2 * steps, steps], disposal.Naive.LeakReports.Select(g => g.Count));
        Assert.All(disposal.Naive.LeakReports, group =>
        {
            Assert.Equal("SafeMem.Demo.Scenarios.DisposalScenario.ExportSession", group.ResourceType);
            Assert.Equal("lab.exports", group.Tracker);
            Assert.Contains("   at SafeMem.Demo.Scenarios.DisposalScenario.ExportSession..ctor(", group.Report, StringComparison.Ordinal);
        });
        Assert.Contains("   at SafeMem.Demo.Scenarios.DisposalScenario.NaiveExports.ExportCsv(Int32 request)", disposal.Naive.LeakReports[0].Report, StringComparison.Ordinal);
        Assert.Contains("   at SafeMem.Demo.Scenarios.DisposalScenario.NaiveExports.ExportPdf(Int32 step, Int32 request)", disposal.Naive.LeakReports[1].Report, StringComparison.Ordinal);
        Assert.Empty(disposal.SafeMem.LeakReports);
    }

    [Fact]
    public void Watcher_TheCapturedContextsAreRetained_AndTheAnalysisNamesTheSingletonsField()
    {
        ScenarioResult watcher = run.Scenario("watcher");

        foreach (Sample sample in watcher.SafeMem.Samples.Concat(watcher.Naive.Samples))
        {
            // Two scoped services a request (the context and the handler), twenty requests a step: every one is judged or
            // waiting.
            Assert.Equal(
                40 * sample.Step,
                (sample.Value("safemem.watcher.reclamations") ?? 0) + (sample.Value("safemem.watcher.retentions") ?? 0) + (sample.Value("safemem.watcher.pending_object.count") ?? 0));
        }

        Assert.All(watcher.SafeMem.Samples, sample => Assert.Equal(0, sample.Value("safemem.watcher.retentions")));
        Assert.Null(watcher.SafeMem.LeakAnalysis);

        // Two failed requests a step; the lab's collections between steps judge all but the last steps' contexts.
        int steps = LabRunFixture.Plan.Steps;
        double retained = watcher.Naive.Samples[^1].Value("safemem.watcher.retentions")!.Value;
        Assert.InRange(retained, 2 * (steps - 2), 2 * steps);
        string analysis = Assert.IsType<string>(watcher.Naive.LeakAnalysis);
        // Asked after the last sample, when a later collection may have judged the last step's contexts too.
        int explained = int.Parse(Regex.Match(analysis, @"^LeakWatcher 'lab\.requests': (\d+) retained objects in 1 group").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(explained, retained, 2 * steps);
        Assert.Contains($"#1  {explained} x SafeMem.Demo.Scenarios.WatcherScenario.CheckoutContext", analysis, StringComparison.Ordinal);
        Assert.Contains("-> WatcherScenario.CapturingFailureLog._failures", analysis, StringComparison.Ordinal);
    }

    [Fact]
    public void Pooling_LostRentalsStayInTheNaivePool_AndTheTrackedPoolFindsAndReportsEachOne()
    {
        ScenarioResult pooling = run.Scenario("pooling");

        foreach (Sample sample in pooling.SafeMem.Samples)
        {
            // 20 requests a step, 1 in 10 malformed: 2 rentals a step are never returned, and each needs a new object.
            Assert.Equal(20 * sample.Step, sample.Value("safemem.pool.rentals"));
            Assert.Equal(18 * sample.Step, sample.Value("safemem.pool.returns"));
            Assert.Equal(2 * sample.Step, sample.Value("safemem.pool.leaks"));
            Assert.Equal(0, sample.Value("safemem.pool.outstanding.count"));
            Assert.Equal(sample.Step == 0 ? 0 : 1 + (2 * sample.Step), sample.Value("safemem.pool.creations"));
            Assert.Equal(2 * sample.Step, sample.Value("safemem.tracker.leaks") ?? 0); // one series per leaked type, from the first leak on
        }

        foreach (Sample sample in pooling.Naive.Samples)
        {
            Assert.Equal(20 * sample.Step, sample.Value("rentals"));
            Assert.Equal(18 * sample.Step, sample.Value("returns"));
            Assert.Equal(2 * sample.Step, sample.Value("outstanding"));
            Assert.Equal(sample.Step == 0 ? 0 : 1 + (2 * sample.Step), sample.Value("created"));
        }

        LeakReportGroup group = Assert.Single(pooling.SafeMem.LeakReports);
        Assert.Equal(2 * LabRunFixture.Plan.Steps, group.Count);
        Assert.Equal("SafeMem.Demo.Scenarios.PoolScenario.RenderContext", group.ResourceType);
        Assert.Contains("details: rented from object pool 'lab.renderers' and never returned", group.Report, StringComparison.Ordinal);
        Assert.Contains("created at:" + Environment.NewLine + "   at SafeMem.Demo.Scenarios.PoolScenario.Renderer.Render(Int32 request)", group.Report, StringComparison.Ordinal);
        Assert.Empty(pooling.Naive.LeakReports);
    }
}
