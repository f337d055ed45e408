namespace SafeMem.Demo.Lab;

/// <summary>
/// Runs variants one at a time in this process. The figures are only as clean as the process is quiet, so this
/// serves tests of the lab itself; the lab proper uses <see cref="ChildProcessRunner"/>.
/// </summary>
internal sealed class InProcessRunner : IVariantRunner
{
    public int MaxParallel => 1;

    public Task<VariantResult> RunAsync(Scenario scenario, VariantKind kind, LabPlan plan, Action<Sample> onSample, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(
            () => VariantHost.Run(scenario, kind, plan, onSample, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
}
