namespace SafeMem.Extensions.Hybrid.Tests.Infrastructure;

/// <summary>
/// Tests that start node processes (<see cref="NodeProcess"/>) run alone: two or three .NET processes and a
/// redis-server take a 2-core machine's both cores, and would turn other tests' timeouts into failures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeProcessCollection
{
    public const string Name = "Node processes";
}
