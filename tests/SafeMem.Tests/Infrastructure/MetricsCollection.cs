namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Tests that listen to the process-wide <c>SafeMem</c> meter share this non-parallel collection, so one test's
/// blocks cannot leak measurements into another's assertions.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics (process-wide meter)";
}
