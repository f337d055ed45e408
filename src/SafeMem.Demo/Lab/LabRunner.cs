using System.Diagnostics;

namespace SafeMem.Demo.Lab;

/// <summary>Runs both variants of every chosen scenario through a runner and gathers the results.</summary>
internal static class LabRunner
{
    public static async Task<LabResult> RunAsync(
        IReadOnlyList<Scenario> scenarios, LabPlan plan, IVariantRunner runner, ILabObserver observer, CancellationToken cancellationToken = default)
    {
        DateTimeOffset startedAt = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(Math.Min(runner.MaxParallel, scenarios.Count * 2));

        async Task<VariantResult> RunOne(Scenario scenario, VariantKind kind)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                VariantResult result;
                try
                {
                    result = await runner.RunAsync(scenario, kind, plan, sample => observer.OnSample(scenario, kind, sample), cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    result = VariantResult.Failed(kind, [], ex.Message);
                }

                observer.OnFinished(scenario, result);
                return result;
            }
            finally
            {
                gate.Release();
            }
        }

        var runs = scenarios
            .Select(s => (Scenario: s, Naive: RunOne(s, VariantKind.Naive), SafeMem: RunOne(s, VariantKind.SafeMem)))
            .ToList();
        var results = new List<ScenarioResult>(runs.Count);
        foreach ((Scenario scenario, Task<VariantResult> naive, Task<VariantResult> safeMem) in runs)
        {
            results.Add(new ScenarioResult(scenario, await naive, await safeMem));
        }

        return new LabResult(plan, startedAt, clock.Elapsed, results);
    }
}
