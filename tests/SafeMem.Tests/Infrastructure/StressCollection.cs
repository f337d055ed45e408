namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Multi-threaded stress tests run alone, so they get both cores of a CI machine and do not slow other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StressCollection
{
    public const string Name = "Stress";
}
