namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// Objects retained the same way: their shortest retention paths share one <see cref="RetentionPath.Signature"/>
/// (equal but for array indexes and thread ids). One group usually means one mechanism to fix.
/// </summary>
/// <remarks>
/// Immutable, thread-safe. Holds addresses (numbers), never the objects. Built by
/// <see cref="HeapSnapshot.GroupRetentionPaths(IEnumerable{ulong}, int)"/>.
/// </remarks>
public sealed class RetentionPathGroup
{
    internal RetentionPathGroup(RetentionPath example, IReadOnlyList<ulong> objects)
    {
        Example = example;
        Objects = objects;
    }

    /// <summary>Gets the signature the paths of the group share.</summary>
    public string Signature => Example.Signature;

    /// <summary>Gets the path of the first object of the group (a real path, with its array indexes).</summary>
    public RetentionPath Example { get; }

    /// <summary>Gets the number of objects retained this way.</summary>
    public int Count => Objects.Count;

    /// <summary>Gets the addresses of the objects retained this way, in the dump the group was read from.</summary>
    public IReadOnlyList<ulong> Objects { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Count} object{(Count == 1 ? string.Empty : "s")} retained by:\n{Example}";
}
