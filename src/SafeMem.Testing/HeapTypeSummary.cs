namespace SafeMem.Testing;

/// <summary>One row of a <see cref="HeapSnapshot"/>: how many objects of one type the heap held, and their bytes.</summary>
/// <remarks>Immutable, thread-safe. Holds the type, never its instances.</remarks>
public sealed class HeapTypeSummary
{
    internal HeapTypeSummary(ulong typeKey, Type? type, string typeName, long count, long bytes)
    {
        TypeKey = typeKey;
        Type = type;
        TypeName = typeName;
        Count = count;
        Bytes = bytes;
    }

    /// <summary>Gets the full name of the type in C# spelling, e.g. <c>System.Collections.Generic.List&lt;MyApp.Order&gt;</c>.</summary>
    public string TypeName { get; }

    /// <summary>Gets the runtime type, or <see langword="null"/> for a type of a collectible assembly.</summary>
    public Type? Type { get; }

    /// <summary>Gets the number of objects of exactly this type (derived types have rows of their own).</summary>
    public long Count { get; }

    /// <summary>Gets the total shallow size of those objects in bytes (what they refer to is counted in its own row).</summary>
    public long Bytes { get; }

    // The type's method table address: unique per loaded type in this process, so rows of two snapshots of the same
    // process pair up exactly even when two types share a name (two load contexts).
    internal ulong TypeKey { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{TypeName}: {Count} objects, {Bytes} B";
}
