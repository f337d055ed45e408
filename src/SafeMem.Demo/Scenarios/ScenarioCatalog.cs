using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Scenarios;

/// <summary>Every scenario the lab knows, in the order it shows them. A new scenario is one class and one line here.</summary>
internal static class ScenarioCatalog
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new CacheScenario(),
        new EventsScenario(),
        new AttachmentScenario(),
        new RegistryScenario(),
        new DisposalScenario(),
        new PoolScenario(),
        new WatcherScenario(),
    ];
}
