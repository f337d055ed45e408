namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// One object in a heap snapshot, as a predicate sees it: its address, its type and its size. The predicates of
/// <see cref="HeapSnapshot.FindObjects(Func{HeapObject, bool})"/> and
/// <see cref="HeapSnapshot.FindRetentionPaths(Func{HeapObject, bool}, int)"/> receive one per object on the heap.
/// </summary>
/// <remarks>
/// A copy of facts read from the dump, not the object itself: holding it keeps nothing alive. Thread-safe (immutable).
/// </remarks>
public readonly struct HeapObject
{
    internal HeapObject(ulong address, Type? type, string typeName, long bytes)
    {
        Address = address;
        Type = type;
        TypeName = typeName;
        Bytes = bytes;
    }

    /// <summary>
    /// Gets the object's address in the dump the snapshot read: the key to pass to
    /// <see cref="HeapSnapshot.FindRetentionPaths(IEnumerable{ulong}, int)"/>. Meaningful in that snapshot only (the
    /// GC moves objects between snapshots).
    /// </summary>
    public ulong Address { get; }

    /// <summary>
    /// Gets the object's runtime type when the snapshot is of the current process, or <see langword="null"/> (a
    /// snapshot of another process, or a type of a collectible assembly, which may be unloaded by the time the dump is
    /// read).
    /// </summary>
    public Type? Type { get; }

    /// <summary>Gets the full name of the object's type in C# spelling, e.g. <c>System.Collections.Generic.List&lt;MyApp.Order&gt;</c>.</summary>
    public string TypeName { get; }

    /// <summary>Gets the object's own size in bytes (its shallow size: what it refers to is not included).</summary>
    public long Bytes { get; }

    /// <summary>Gets whether the object is an instance of <typeparamref name="T"/> (or of a type derived from or implementing it).</summary>
    /// <typeparam name="T">The type to test for.</typeparam>
    /// <returns><see langword="true"/> when the object's type is known and assignable to <typeparamref name="T"/>.</returns>
    public bool Is<T>() => Type is not null && typeof(T).IsAssignableFrom(Type);

    /// <inheritdoc/>
    public override string ToString() => $"{TypeName} ({Bytes} B) at 0x{Address:x}";
}
