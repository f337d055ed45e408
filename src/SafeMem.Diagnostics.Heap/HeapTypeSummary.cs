namespace SafeMem.Diagnostics.Heap;

/// <summary>One row of a <see cref="HeapSnapshot"/>: how many objects of one type the heap held, and their bytes.</summary>
/// <remarks>
/// Immutable, thread-safe. Holds the type, never its instances. Tools that store rows (a snapshot file) rebuild them
/// with the public constructor and compare them with <see cref="HeapSnapshotDiff.Compare"/>.
/// </remarks>
public sealed class HeapTypeSummary
{
    /// <summary>Initializes a row from its figures (for tools that read rows back from a file).</summary>
    /// <param name="typeName">The full name of the type in C# spelling.</param>
    /// <param name="count">The number of objects. Not negative.</param>
    /// <param name="bytes">Their total shallow size in bytes. Not negative.</param>
    /// <param name="methodTable">The type's method table address in the process it was read from, or 0 when unknown.</param>
    /// <exception cref="ArgumentNullException"><paramref name="typeName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="bytes"/> is negative.</exception>
    public HeapTypeSummary(string typeName, long count, long bytes, ulong methodTable = 0)
        : this(methodTable, type: null, typeName, count, bytes)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
    }

    internal HeapTypeSummary(ulong methodTable, Type? type, string typeName, long count, long bytes)
    {
        MethodTable = methodTable;
        Type = type;
        TypeName = typeName;
        Count = count;
        Bytes = bytes;
    }

    /// <summary>Gets the full name of the type in C# spelling, e.g. <c>System.Collections.Generic.List&lt;MyApp.Order&gt;</c>.</summary>
    public string TypeName { get; }

    /// <summary>Gets the runtime type when the snapshot is of the current process, else <see langword="null"/> (another process, a collectible assembly, a row read back from a file).</summary>
    public Type? Type { get; }

    /// <summary>Gets the number of objects of exactly this type (derived types have rows of their own).</summary>
    public long Count { get; }

    /// <summary>Gets the total shallow size of those objects in bytes (what they refer to is counted in its own row).</summary>
    public long Bytes { get; }

    /// <summary>
    /// Gets the type's method table address in the process it was read from (0 when unknown): unique per loaded type
    /// of that process, so that two types sharing a name (two load contexts) keep separate rows that pair up across
    /// snapshots of one process.
    /// </summary>
    public ulong MethodTable { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{TypeName}: {Count} objects, {Bytes} B";
}
