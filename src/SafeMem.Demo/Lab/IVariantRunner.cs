namespace SafeMem.Demo.Lab;

/// <summary>Where a variant runs: in a child process of its own (the lab), or in this process (tests).</summary>
internal interface IVariantRunner
{
    /// <summary>How many variants may run at once without measuring each other.</summary>
    int MaxParallel { get; }

    Task<VariantResult> RunAsync(Scenario scenario, VariantKind kind, LabPlan plan, Action<Sample> onSample, CancellationToken cancellationToken);
}
