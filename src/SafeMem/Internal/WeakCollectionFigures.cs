namespace SafeMem.Internal;

/// <summary>One consistent-enough reading of a weak collection's counters (see <see cref="WeakCollectionCounters{TKind}.Read"/>).</summary>
/// <param name="Count">Live entries found by walking the collection.</param>
/// <param name="Additions">Entries added since creation.</param>
/// <param name="Removals">Live entries removed by a caller since creation.</param>
/// <param name="Reclamations">Entries dropped because the garbage collector collected their key or value.</param>
internal readonly record struct WeakCollectionFigures(int Count, long Additions, long Removals, long Reclamations);
