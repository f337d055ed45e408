using SafeMem.Internal;

namespace SafeMem.Registries;

/// <summary>
/// Names the registry instruments: <c>safemem.registry.*</c>, one set shared by the three registry types (an
/// instance is told apart by its <c>safemem.name</c>).
/// </summary>
internal sealed class RegistryKind : IWeakCollectionKind
{
    public static string Block => "registry";

    public static string EntriesNoun => "registry entries";
}
