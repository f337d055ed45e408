namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// The objects of one type in a <see cref="HeapSnapshotRecord"/> that are retained the same way: their shortest
/// retention paths share one <see cref="RetentionPath.Signature"/>. Comparing a group's count across records tells
/// which holder the new instances of a growing type went to.
/// </summary>
/// <remarks>Immutable, thread-safe; holds names and numbers only.</remarks>
public sealed class HeapRetentionGroup
{
    /// <summary>Initializes a group from its parts (for tools that read groups back from a file).</summary>
    /// <param name="typeName">The full name of the objects' type, as <see cref="HeapTypeSummary.TypeName"/> writes it.</param>
    /// <param name="methodTable">The type's method table address in the process it was read from, or 0 when unknown.</param>
    /// <param name="count">The number of objects retained this way. Not negative.</param>
    /// <param name="bytes">Their total shallow size. Not negative.</param>
    /// <param name="example">The path of one of them (the last one the walk reached: for a collection, the element at its highest index).</param>
    /// <exception cref="ArgumentNullException"><paramref name="typeName"/> or <paramref name="example"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="bytes"/> is negative.</exception>
    public HeapRetentionGroup(string typeName, ulong methodTable, long count, long bytes, RetentionPath example)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        ArgumentNullException.ThrowIfNull(example);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        TypeName = typeName;
        MethodTable = methodTable;
        Count = count;
        Bytes = bytes;
        Example = example;
    }

    /// <summary>Gets the full name of the objects' type.</summary>
    public string TypeName { get; }

    /// <summary>Gets the type's method table address in the process it was read from (0 when unknown).</summary>
    public ulong MethodTable { get; }

    /// <summary>Gets the number of objects retained this way.</summary>
    public long Count { get; }

    /// <summary>Gets the total shallow size of those objects in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Gets the path of one of the objects (a real path, with its array indexes).</summary>
    public RetentionPath Example { get; }

    /// <summary>Gets the signature the paths of the group share.</summary>
    public string Signature => Example.Signature;

    /// <inheritdoc/>
    public override string ToString() => $"{Count} {TypeName} ({Bytes} B) retained by:\n{Example}";
}
