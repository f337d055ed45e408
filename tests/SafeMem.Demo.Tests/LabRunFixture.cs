using SafeMem.Demo.Lab;
using SafeMem.Demo.Scenarios;

namespace SafeMem.Demo.Tests;

/// <summary>
/// One short in-process run of every scenario, shared by the tests that check what a run produces (the verdicts,
/// the scenario figures, the report). In-process is enough for them: this assembly runs its tests one at a time.
/// </summary>
public sealed class LabRunFixture
{
    /// <summary>Enough steps that every SafeMem variant has filled up before the second half starts.</summary>
    internal static readonly LabPlan Plan = new(24, TimeSpan.Zero);

    public LabRunFixture()
    {
        Samples = [];
        Result = LabRunner.RunAsync(ScenarioCatalog.All, Plan, new InProcessRunner(), new Recorder(Samples)).GetAwaiter().GetResult();
    }

    internal LabResult Result { get; }

    /// <summary>Every sample the observer was told about, in order, per scenario and variant.</summary>
    internal Dictionary<(string Scenario, VariantKind Kind), List<Sample>> Samples { get; }

    internal ScenarioResult Scenario(string key) => Result.Scenarios.Single(s => s.Scenario.Key == key);

    private sealed class Recorder(Dictionary<(string, VariantKind), List<Sample>> samples) : ILabObserver
    {
        public void OnSample(Scenario scenario, VariantKind kind, Sample sample)
        {
            lock (samples)
            {
                if (!samples.TryGetValue((scenario.Key, kind), out List<Sample>? list))
                {
                    samples[(scenario.Key, kind)] = list = [];
                }

                list.Add(sample);
            }
        }

        public void OnFinished(Scenario scenario, VariantResult result)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class LabRunCollection : ICollectionFixture<LabRunFixture>
{
    public const string Name = "lab run";
}
