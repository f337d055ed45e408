using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Tests.Lab;

[Collection(LabRunCollection.Name)]
public sealed class LabRunnerTests(LabRunFixture run)
{
    private static readonly LabPlan s_plan = new(16, TimeSpan.Zero);

    [Fact]
    public void RunAsync_EveryScenario_NaiveGrowsAndSafeMemStaysFlat()
    {
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            Assert.True(scenario.Naive.Succeeded, scenario.Naive.Error);
            Assert.True(scenario.SafeMem.Succeeded, scenario.SafeMem.Error);
            Assert.False(scenario.NaiveFlat, $"{scenario.Scenario.Key}: the naive variant should leak (late growth {scenario.Naive.LateGrowth:N0} bytes)");
            Assert.False(scenario.SafeMemGrew, $"{scenario.Scenario.Key}: SafeMem late growth {scenario.SafeMem.LateGrowth:N0} bytes over a limit of {scenario.Threshold:N0}");
        }

        Assert.Equal(0, run.Result.ExitCode);
    }

    [Fact]
    public void RunAsync_SamplesABaselineAndEveryStep_AndTellsTheObserverEachOne()
    {
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            foreach (VariantKind kind in new[] { VariantKind.Naive, VariantKind.SafeMem })
            {
                IReadOnlyList<Sample> samples = scenario[kind].Samples;
                Assert.Equal(Enumerable.Range(0, LabRunFixture.Plan.Steps + 1), samples.Select(s => s.Step));
                Assert.Equal(samples, run.Samples[(scenario.Scenario.Key, kind)]);
            }
        }
    }

    [Fact]
    public void RunAsync_SafeMemSamples_CarryTheChartedInstrumentsReadThroughTheMeterListener()
    {
        foreach (ScenarioResult scenario in run.Result.Scenarios)
        {
            Sample last = scenario.SafeMem.Samples[^1];
            foreach (CounterChart chart in scenario.Scenario.Charts)
            {
                Assert.True(last.Value(chart.SafeMemKey) is not null, $"{scenario.Scenario.Key}: no value for {chart.SafeMemKey}");
                if (chart.NaiveKey is not null)
                {
                    Assert.True(scenario.Naive.Samples[^1].Value(chart.NaiveKey) is not null, $"{scenario.Scenario.Key}: no naive value for {chart.NaiveKey}");
                }
            }

            // The naive variant uses no SafeMem block, except one its charts declare (a LeakTracker watching the leak). In
            // this shared process, figures another variant left behind (scopes are counted per name for the life of the
            // process) may be read too, but they do not move during the naive run.
            string[] naiveBlocks = [.. scenario.Scenario.Charts
                .Select(c => c.NaiveKey)
                .OfType<string>()
                .Where(key => key.StartsWith("safemem.", StringComparison.Ordinal))
                .Select(key => string.Join('.', key.Split('.')[..2]) + ".")];
            Sample naiveFirst = scenario.Naive.Samples[0];
            Sample naiveLast = scenario.Naive.Samples[^1];
            Assert.All(
                naiveLast.Values.Keys.Where(key => key.StartsWith("safemem.", StringComparison.Ordinal)),
                key => Assert.True(
                    naiveBlocks.Any(block => key.StartsWith(block, StringComparison.Ordinal)) || naiveFirst.Value(key) == naiveLast.Value(key),
                    $"{scenario.Scenario.Key}: the naive variant published {key}"));
        }
    }

    [Fact]
    public async Task RunAsync_SafeMemVariantThatLeaks_FailsTheRun()
    {
        LabResult result = await LabRunner.RunAsync([new ToyScenario(safeMemLeaks: true)], s_plan, new InProcessRunner(), NullObserver.Instance);

        Assert.True(result.Scenarios[0].SafeMemGrew);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_SafeMemVariantThatLetsGo_PassesTheRun()
    {
        // The control for the test above: the same scenario, whose SafeMem variant keeps a bounded window.
        LabResult result = await LabRunner.RunAsync([new ToyScenario(safeMemLeaks: false)], s_plan, new InProcessRunner(), NullObserver.Instance);

        Assert.False(result.Scenarios[0].SafeMemGrew);
        Assert.False(result.Scenarios[0].NaiveFlat);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_VariantThatThrows_IsReportedAsFailed()
    {
        LabResult result = await LabRunner.RunAsync([new ToyScenario(safeMemLeaks: false, throwAtStep: 3)], s_plan, new InProcessRunner(), NullObserver.Instance);

        Assert.False(result.Scenarios[0].SafeMem.Succeeded);
        Assert.Contains("step 3", result.Scenarios[0].SafeMem.Error);
        Assert.Equal(1, result.ExitCode);
    }

    /// <summary>Both variants allocate 256 KB a step; the naive one keeps it all, the SafeMem one the last four steps (or all, when told to leak).</summary>
    private sealed class ToyScenario(bool safeMemLeaks, int throwAtStep = 0) : Scenario
    {
        public override string Key => "toy";

        public override string Title => "Toy";

        public override string NaiveLabel => "List<byte[]>";

        public override string SafeMemLabel => "bounded window";

        public override string Story => "Allocates 256 KB per step.";

        public override IReadOnlyList<CounterChart> Charts => [];

        public override Variant Create(VariantKind kind) =>
            new Keeper(kind == VariantKind.Naive || safeMemLeaks ? int.MaxValue : 4, kind == VariantKind.SafeMem ? throwAtStep : 0);

        private sealed class Keeper(int window, int throwAtStep) : Variant
        {
            private readonly Queue<byte[]> _kept = new();

            public override void Step(int step)
            {
                if (step == throwAtStep)
                {
                    throw new InvalidOperationException($"failed at step {step}");
                }

                _kept.Enqueue(new byte[256 * 1024]);
                if (_kept.Count > window)
                {
                    _kept.Dequeue();
                }
            }
        }
    }

    private sealed class NullObserver : ILabObserver
    {
        public static readonly NullObserver Instance = new();

        public void OnSample(Scenario scenario, VariantKind kind, Sample sample)
        {
        }

        public void OnFinished(Scenario scenario, VariantResult result)
        {
        }
    }
}
