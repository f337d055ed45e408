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
}
