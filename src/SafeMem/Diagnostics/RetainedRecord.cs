namespace SafeMem.Diagnostics;

/// <summary>
/// One retained object the watcher keeps for analysis: its weak GC handle (owned by the watcher's table, freed when the
/// object dies or the watcher is disposed) and what was known when it was watched.
/// </summary>
internal sealed class RetainedRecord(nint handle, int hash, Type type, string typeName, string description)
{
    public nint Handle { get; } = handle;

    public int Hash { get; } = hash;

    public Type Type { get; } = type;

    public string TypeName { get; } = typeName;

    public string Description { get; } = description;
}
