namespace SafeMem.Testing;

/// <summary>
/// One object in a heap dump, as a predicate sees it: its type and its size. The predicates of
/// <see cref="LeakAssert.Collected(Action, Func{HeapObject, bool})"/> and
/// <see cref="HeapSnapshot.FindRetentionPaths(Func{HeapObject, bool}, int)"/> receive one per object on the heap.
/// </summary>
/// <remarks>
/// A copy of facts read from the dump, not the object itself: holding it keeps nothing alive. Thread-safe (immutable).
/// </remarks>
public readonly struct HeapObject
{
    internal HeapObject(Type? type, string typeName, long bytes)
    {
        Type = type;
        TypeName = typeName;
        Bytes = bytes;
    }

    /// <summary>
    /// Gets the object's runtime type, or <see langword="null"/> for a type of a collectible assembly (which the
    /// library does not resolve, since it may be unloaded by the time the dump is read).
    /// </summary>
    public Type? Type { get; }

    /// <summary>Gets the full name of the object's type in C# spelling, e.g. <c>System.Collections.Generic.List&lt;MyApp.Order&gt;</c>.</summary>
    public string TypeName { get; }

    /// <summary>Gets the object's own size in bytes (its shallow size: what it refers to is not included).</summary>
    public long Bytes { get; }

    /// <summary>Gets whether the object is an instance of <typeparamref name="T"/> (or of a type derived from or implementing it).</summary>
    /// <typeparam name="T">The type to test for.</typeparam>
    /// <returns><see langword="true"/> when the object's type is assignable to <typeparamref name="T"/>.</returns>
    public bool Is<T>() => Type is not null && typeof(T).IsAssignableFrom(Type);

    /// <inheritdoc/>
    public override string ToString() => $"{TypeName} ({Bytes} B)";
}
