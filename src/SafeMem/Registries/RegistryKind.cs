using SafeMem.Internal;

namespace SafeMem.Registries;

/// <summary>
/// Names the registry instruments: <c>safemem.registry.*</c>, one set shared by the three registry types (an
/// instance is told apart by its <c>safemem.name</c>).
/// </summary>
internal sealed class RegistryKind : IWeakCollectionKind
{
    public static string Block => "registry";

    public static string CountDescription => "Live registry entries: entries whose weak key (WeakRegistry, WeakKeyedRegistry) or weak value (WeakValueRegistry) the garbage collector has not collected. Counting walks the registry.";

    public static string AdditionsDescription => "Registry entries added (Add, TryAdd, GetOrAdd, Set).";

    public static string RemovalsDescription => "Live registry entries removed by Remove or Clear.";

    public static string ReclamationsDescription => "Registry entries dropped because the garbage collector collected their weak key or weak value.";
}
