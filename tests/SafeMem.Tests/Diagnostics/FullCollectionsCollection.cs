namespace SafeMem.Tests.Diagnostics;

/// <summary>
/// Tests that count full collections exactly ("retained after two, not one") run alone: a parallel test's
/// <see cref="GC.Collect()"/> would add collections they did not make.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FullCollectionsCollection
{
    public const string Name = "Full collections counted";
}
