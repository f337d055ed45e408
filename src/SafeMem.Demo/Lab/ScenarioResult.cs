namespace SafeMem.Demo.Lab;

/// <summary>Both variants of one scenario, and the verdict on the SafeMem one.</summary>
internal sealed record ScenarioResult(Scenario Scenario, VariantResult Naive, VariantResult SafeMem)
{
    public VariantResult this[VariantKind kind] => kind == VariantKind.Naive ? Naive : SafeMem;

    public long Threshold => GrowthCriterion.Threshold(Naive.LateGrowth);

    /// <summary>The SafeMem variant kept growing through the second half of the run (<see cref="GrowthCriterion"/>).</summary>
    public bool SafeMemGrew => GrowthCriterion.Grew(SafeMem.LateGrowth, Naive.LateGrowth);

    /// <summary>The naive variant did not show its leak (a scenario too small for the run, or a run too short).</summary>
    public bool NaiveFlat => !GrowthCriterion.Grew(Naive.LateGrowth, 0);

    public bool Failed => !Naive.Succeeded || !SafeMem.Succeeded || SafeMemGrew;
}
