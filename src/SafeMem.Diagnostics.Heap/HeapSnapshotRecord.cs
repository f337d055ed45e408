using SafeMem.Diagnostics.Heap.Internal;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// What a diff and a retention path need of a <see cref="HeapSnapshot"/>, kept after its dump is gone: the rows (count
/// and bytes per type) and, per type, its objects grouped by the signature of their shortest retention path, with one
/// example path per group. Written to and read from a compact snapshot file, so that snapshots taken on one machine
/// can be compared on another.
/// </summary>
/// <remarks>
/// <para>
/// A record holds type names, field names as retention paths spell them, root descriptions, counts and sizes; never
/// an object's contents (no field value, no string's text, no array's data). A file is a few kilobytes to a few
/// megabytes where the dump it came from is as large as the process's memory.
/// </para>
/// <para>
/// Immutable and thread-safe. <see cref="Create"/> walks the whole heap of the snapshot once (breadth-first from the
/// roots, as retention paths are found), so it costs about what a path query costs; the snapshot can be disposed as
/// soon as it returns.
/// </para>
/// </remarks>
public sealed class HeapSnapshotRecord
{
    /// <summary>The most retention groups a record keeps per type, largest first.</summary>
    public const int MaxGroupsPerType = 8;

    private readonly Dictionary<string, List<HeapRetentionGroup>> _groupsByType;

    /// <summary>Initializes a record from its parts (what <see cref="Create"/> and <see cref="Read"/> build).</summary>
    /// <param name="processId">The id of the process the snapshot is of (0 when unknown).</param>
    /// <param name="processName">The process's name, or an empty string when unknown.</param>
    /// <param name="takenAt">When the snapshot was taken.</param>
    /// <param name="types">The rows, one per type.</param>
    /// <param name="retentionGroups">The retention groups of the types' objects.</param>
    /// <param name="inspectionNotes">What could not be inspected when the groups were read.</param>
    /// <param name="dumpWriteTime">How long the process was suspended while its dump was written (zero when unknown).</param>
    /// <exception cref="ArgumentNullException">An argument, or an item of a list, is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dumpWriteTime"/> is negative.</exception>
    public HeapSnapshotRecord(
        int processId,
        string processName,
        DateTimeOffset takenAt,
        IEnumerable<HeapTypeSummary> types,
        IEnumerable<HeapRetentionGroup> retentionGroups,
        IEnumerable<string> inspectionNotes,
        TimeSpan dumpWriteTime = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dumpWriteTime, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(processName);
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(retentionGroups);
        ArgumentNullException.ThrowIfNull(inspectionNotes);
        HeapTypeSummary[] rows = [.. types];
        HeapRetentionGroup[] groups = [.. retentionGroups];
        string[] notes = [.. inspectionNotes];
        if (rows.Contains(null!) || groups.Contains(null!) || notes.Contains(null!))
        {
            throw new ArgumentNullException(rows.Contains(null!) ? nameof(types) : groups.Contains(null!) ? nameof(retentionGroups) : nameof(inspectionNotes), "An item is null.");
        }

        ProcessId = processId;
        ProcessName = processName;
        TakenAt = takenAt;
        Types = rows;
        RetentionGroups = groups;
        InspectionNotes = notes;
        DumpWriteTime = dumpWriteTime;
        _groupsByType = groups
            .GroupBy(g => g.TypeName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.Count).ToList(), StringComparer.Ordinal);
    }

    /// <summary>Gets the id of the process the snapshot is of (0 when unknown).</summary>
    public int ProcessId { get; }

    /// <summary>Gets the process's name (empty when unknown).</summary>
    public string ProcessName { get; }

    /// <summary>Gets when the snapshot was taken (when its dump began, for a dump it wrote).</summary>
    public DateTimeOffset TakenAt { get; }

    /// <summary>
    /// Gets how long the process was suspended while the snapshot's dump was written (zero when unknown): time the
    /// process did no work, which a series of snapshots leaves out of the time between them.
    /// </summary>
    public TimeSpan DumpWriteTime { get; }

    /// <summary>Gets the snapshot's rows, as <see cref="HeapSnapshot.Types"/> gave them.</summary>
    public IReadOnlyList<HeapTypeSummary> Types { get; }

    /// <summary>Gets the number of objects the rows count.</summary>
    public long TotalCount => Types.Sum(t => t.Count);

    /// <summary>Gets the total bytes of the objects the rows count.</summary>
    public long TotalBytes => Types.Sum(t => t.Bytes);

    /// <summary>Gets every retention group (at most <see cref="MaxGroupsPerType"/> per type, largest first).</summary>
    public IReadOnlyList<HeapRetentionGroup> RetentionGroups { get; }

    /// <summary>Gets what could not be inspected when the groups were read (as <see cref="HeapSnapshot.InspectionNotes"/>).</summary>
    public IReadOnlyList<string> InspectionNotes { get; }

    /// <summary>Reads a record from a snapshot: its rows, and one walk of its heap for the retention groups.</summary>
    /// <param name="snapshot">The snapshot, not disposed.</param>
    /// <param name="processName">The process's name to keep with the record (the snapshot does not know it), or <see langword="null"/>.</param>
    /// <returns>The record; the snapshot may be disposed once it is returned.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="snapshot"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public static HeapSnapshotRecord Create(HeapSnapshot snapshot, string? processName = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        IReadOnlyList<HeapTypeSummary> rows = snapshot.Types;
        var groups = snapshot.SummarizeRetentionGroups(MaxGroupsPerType)
            .Select(g => new HeapRetentionGroup(snapshot.TypeNameOf(g.Type), g.Type.MethodTable, g.Count, g.Bytes, g.Example))
            .ToList();
        return new HeapSnapshotRecord(snapshot.ProcessId, processName ?? string.Empty, snapshot.TakenAt, rows, groups, snapshot.InspectionNotes, snapshot.DumpDuration ?? TimeSpan.Zero);
    }

    /// <summary>Gets the retention groups of one type, largest first (empty when the record has none).</summary>
    /// <param name="typeName">The type's full name, as <see cref="HeapTypeSummary.TypeName"/> writes it.</param>
    /// <returns>The groups.</returns>
    public IReadOnlyList<HeapRetentionGroup> GroupsOf(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        return _groupsByType.TryGetValue(typeName, out List<HeapRetentionGroup>? groups) ? groups : [];
    }

    /// <summary>Writes the record as a snapshot file.</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="IOException">The file could not be written.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Write(file);
    }

    /// <summary>Writes the record in the snapshot file format to a stream (left open).</summary>
    /// <param name="destination">A writable stream.</param>
    public void Write(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        SnapshotFileFormat.Write(this, destination);
    }

    /// <summary>Reads a snapshot file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The record it holds.</returns>
    /// <exception cref="InvalidDataException">The file is not a snapshot file, or of a format version this library cannot read.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public static HeapSnapshotRecord Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(file);
    }

    /// <summary>Reads a record in the snapshot file format from a stream (left open).</summary>
    /// <param name="source">A readable stream, at the start of the record.</param>
    /// <returns>The record.</returns>
    /// <exception cref="InvalidDataException">The stream does not hold a snapshot record this library can read.</exception>
    public static HeapSnapshotRecord Read(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return SnapshotFileFormat.Read(source);
    }
}
