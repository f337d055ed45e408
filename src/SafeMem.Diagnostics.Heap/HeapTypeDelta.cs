namespace SafeMem.Diagnostics.Heap;

/// <summary>One row of a <see cref="HeapSnapshotDiff"/>: how the objects of one type changed between two snapshots.</summary>
/// <remarks>Immutable, thread-safe.</remarks>
public sealed class HeapTypeDelta
{
    internal HeapTypeDelta(string typeName, Type? type, long count, long bytes, long countDelta, long bytesDelta)
    {
        TypeName = typeName;
        Type = type;
        Count = count;
        Bytes = bytes;
        CountDelta = countDelta;
        BytesDelta = bytesDelta;
    }

    /// <summary>Gets the full name of the type in C# spelling.</summary>
    public string TypeName { get; }

    /// <summary>Gets the runtime type, or <see langword="null"/> for a type of a collectible assembly.</summary>
    public Type? Type { get; }

    /// <summary>Gets the number of objects of this type in the later snapshot.</summary>
    public long Count { get; }

    /// <summary>Gets the total bytes of this type in the later snapshot.</summary>
    public long Bytes { get; }

    /// <summary>Gets the change in the number of objects (later minus earlier).</summary>
    public long CountDelta { get; }

    /// <summary>Gets the change in bytes (later minus earlier).</summary>
    public long BytesDelta { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{TypeName}: {CountDelta:+#;-#;0} objects, {BytesDelta:+#;-#;0} B";
}
