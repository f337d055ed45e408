using SafeMem.Internal;

namespace SafeMem.Registries;

/// <summary>
/// An immutable snapshot of a registry's figures (<see cref="WeakRegistry{T}"/>,
/// <see cref="WeakKeyedRegistry{TKey, TValue}"/>, <see cref="WeakValueRegistry{TKey, TValue}"/>).
/// </summary>
/// <remarks>
/// The same figures as the <c>safemem.registry.*</c> instruments. <see cref="Reclamations"/> is derived
/// (<see cref="Additions"/> - <see cref="Removals"/> - <see cref="Count"/>): exact when no write races with the
/// snapshot, otherwise a slight under-estimate.
/// </remarks>
public sealed record RegistryStatistics
{
    /// <summary>Gets the number of live entries (whose weakly held key or value has not been collected).</summary>
    public int Count { get; init; }

    /// <summary>Gets the number of entries added since creation (replacing the value of a live entry is not an addition).</summary>
    public long Additions { get; init; }

    /// <summary>Gets the number of live entries removed by <c>Remove</c> or <c>Clear</c>.</summary>
    public long Removals { get; init; }

    /// <summary>Gets the number of entries dropped because the garbage collector collected their weakly held key or value.</summary>
    public long Reclamations { get; init; }

    internal static RegistryStatistics From(WeakCollectionFigures figures) => new()
    {
        Count = figures.Count,
        Additions = figures.Additions,
        Removals = figures.Removals,
        Reclamations = figures.Reclamations,
    };
}
