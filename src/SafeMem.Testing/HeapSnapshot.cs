using System.Globalization;
using System.Text;
using SafeMem.Testing.Internal;

namespace SafeMem.Testing;

/// <summary>
/// The objects on the managed heap at one moment, per type (count and bytes), like pympler's summary or a
/// <c>tracemalloc</c> snapshot; two snapshots <see cref="Diff"/> into the types that grew. A snapshot can also find
/// what retains objects matching a predicate (objgraph's back-reference chains).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Take()"/> runs a full blocking, compacting collection (with finalizers), then writes a dump of the
/// process and reads it with ClrMD (about a second, longer for a large heap; the whole process is suspended while
/// the dump is written). The rows count every object the heap holds right after that collection: live objects, plus
/// whatever other threads allocated between the collection and the dump.
/// </para>
/// <para>
/// The snapshot keeps the dump open (its file already deleted) so that <see cref="FindRetentionPaths"/> can read it;
/// <see cref="Dispose"/> releases it. The rows stay readable after disposal. Holding a snapshot keeps no object of
/// the process alive. Thread-safe: the rows are immutable, and <see cref="FindRetentionPaths"/> calls are serialized.
/// Snapshots are taken one at a time process-wide (a second <see cref="Take()"/> waits for the first).
/// </para>
/// </remarks>
public sealed class HeapSnapshot : IDisposable
{
    private readonly object _sync = new();
    private HeapDump? _dump;
    private RetentionGraph? _graph;

    private HeapSnapshot(HeapDump dump, List<HeapTypeSummary> types, DateTimeOffset takenAt)
    {
        _dump = dump;
        Types = types;
        TakenAt = takenAt;
        TotalCount = types.Sum(t => t.Count);
        TotalBytes = types.Sum(t => t.Bytes);
    }

    /// <summary>Gets one row per type, largest <see cref="HeapTypeSummary.Bytes"/> first.</summary>
    public IReadOnlyList<HeapTypeSummary> Types { get; }

    /// <summary>Gets the number of objects on the heap.</summary>
    public long TotalCount { get; }

    /// <summary>Gets the total bytes of the objects on the heap.</summary>
    public long TotalBytes { get; }

    /// <summary>Gets when the snapshot was taken.</summary>
    public DateTimeOffset TakenAt { get; }

    /// <summary>Collects garbage, then takes a snapshot of the heap, dumping into the system's temporary directory.</summary>
    /// <returns>The snapshot; dispose it to release the dump it reads.</returns>
    /// <exception cref="InvalidOperationException">The process could not dump or read itself (the message says why).</exception>
    public static HeapSnapshot Take() => Take(dumpDirectory: null);

    /// <summary>Collects garbage, then takes a snapshot of the heap.</summary>
    /// <param name="dumpDirectory">An existing directory for the temporary dump (deleted before this returns), or <see langword="null"/> for the system's temporary directory.</param>
    /// <returns>The snapshot; dispose it to release the dump it reads.</returns>
    /// <exception cref="InvalidOperationException">The process could not dump or read itself (the message says why).</exception>
    public static HeapSnapshot Take(string? dumpDirectory)
    {
        using InspectionGate.Releaser gate = InspectionGate.Enter();
        FullCollection.Run();
        HeapDump dump;
        try
        {
            dump = HeapDump.Create(dumpDirectory);
        }
        catch (HeapDumpUnavailableException exception)
        {
            throw new InvalidOperationException($"A heap snapshot is unavailable: {exception.Message}.", exception);
        }

        try
        {
            var snapshot = new HeapSnapshot(dump, HeapObjects.Summarize(dump.Heap), DateTimeOffset.UtcNow);

            // Until a query needs it, the snapshot holds the deleted file only, not ClrMD's caches: a snapshot kept
            // for a later Diff must not show up in the next snapshot as growth.
            dump.ReleaseReader();
            return snapshot;
        }
        catch
        {
            dump.Dispose();
            throw;
        }
    }

    /// <summary>Compares two snapshots of this process, type by type.</summary>
    /// <param name="before">The earlier snapshot.</param>
    /// <param name="after">The later snapshot.</param>
    /// <returns>The types that grew (largest byte growth first) and those that shrank.</returns>
    /// <remarks>Works on disposed snapshots too (it reads only their rows).</remarks>
    public static HeapSnapshotDiff Diff(HeapSnapshot before, HeapSnapshot after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        Dictionary<ulong, HeapTypeSummary> earlier = before.Types.ToDictionary(t => t.TypeKey);
        var deltas = new List<HeapTypeDelta>();
        foreach (HeapTypeSummary row in after.Types)
        {
            earlier.Remove(row.TypeKey, out HeapTypeSummary? old);
            long countDelta = row.Count - (old?.Count ?? 0);
            long bytesDelta = row.Bytes - (old?.Bytes ?? 0);
            if (countDelta != 0 || bytesDelta != 0)
            {
                deltas.Add(new HeapTypeDelta(row.TypeName, row.Type, row.Count, row.Bytes, countDelta, bytesDelta));
            }
        }

        foreach (HeapTypeSummary gone in earlier.Values)
        {
            deltas.Add(new HeapTypeDelta(gone.TypeName, gone.Type, 0, 0, -gone.Count, -gone.Bytes));
        }

        List<HeapTypeDelta> grown = deltas
            .Where(d => d.BytesDelta > 0 || (d.BytesDelta == 0 && d.CountDelta > 0))
            .OrderByDescending(d => d.BytesDelta).ThenByDescending(d => d.CountDelta).ThenBy(d => d.TypeName, StringComparer.Ordinal)
            .ToList();
        List<HeapTypeDelta> shrunk = deltas
            .Where(d => d.BytesDelta < 0 || (d.BytesDelta == 0 && d.CountDelta < 0))
            .OrderBy(d => d.BytesDelta).ThenBy(d => d.CountDelta).ThenBy(d => d.TypeName, StringComparer.Ordinal)
            .ToList();
        return new HeapSnapshotDiff(grown, shrunk, after.TotalCount - before.TotalCount, after.TotalBytes - before.TotalBytes);
    }

    /// <summary>Gets the row of a type, or <see langword="null"/> when the heap held no object of exactly that type.</summary>
    /// <param name="type">The exact type (derived types have rows of their own).</param>
    /// <returns>The type's row, or <see langword="null"/>.</returns>
    public HeapTypeSummary? Find(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Types.FirstOrDefault(row => row.Type == type);
    }

    /// <summary>Counts the objects in the snapshot that match a predicate.</summary>
    /// <param name="predicate">Called once per object on the heap; user code, its exceptions propagate.</param>
    /// <returns>The number of matching objects.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public int Count(Func<HeapObject, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        lock (_sync)
        {
            HeapDump dump = _dump ?? throw new ObjectDisposedException(nameof(HeapSnapshot));
            return HeapObjects.Matching(dump.Heap, predicate).Count;
        }
    }

    /// <summary>
    /// Finds what keeps objects matching a predicate alive: for up to <paramref name="maxPaths"/> of them, the
    /// shortest chain of references from a GC root (objgraph's <c>find_backref_chain</c>).
    /// </summary>
    /// <param name="predicate">Called once per object on the heap; user code, its exceptions propagate.</param>
    /// <param name="maxPaths">The most paths to return (one per matching object). From 1 to 100.</param>
    /// <returns>The paths found, shortest first; empty when no object matches or none is reachable from a root ClrMD can see.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<RetentionPath> FindRetentionPaths(Func<HeapObject, bool> predicate, int maxPaths = 3)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPaths, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPaths, 100);
        lock (_sync)
        {
            HeapDump dump = _dump ?? throw new ObjectDisposedException(nameof(HeapSnapshot));
            var targets = new HashSet<ulong>(HeapObjects.Matching(dump.Heap, predicate));
            if (targets.Count == 0)
            {
                return [];
            }

            _graph ??= new RetentionGraph(dump.Runtime);
            return _graph.FindPaths(targets, maxPaths, alternativesPerTarget: false).OrderBy(p => p.Length).ToList();
        }
    }

    /// <summary>Releases the dump; the rows stay readable.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            _graph = null;
            _dump?.Dispose();
            _dump = null;
        }
    }

    /// <summary>Renders the largest types as a table, at most 20 rows.</summary>
    /// <returns>The table.</returns>
    public override string ToString() => ToString(20);

    /// <summary>Renders the largest types as a table: bytes, count, type.</summary>
    /// <param name="maxRows">The most rows to print. Greater than zero.</param>
    /// <returns>The table.</returns>
    public string ToString(int maxRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        CultureInfo culture = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        builder.Append(culture, $"{"Bytes",14} {"Count",10}  Type\n");
        foreach (HeapTypeSummary row in Types.Take(maxRows))
        {
            builder.Append(culture, $"{row.Bytes,14:#,0} {row.Count,10:#,0}  {row.TypeName}\n");
        }

        builder.Append(culture, $"{TotalBytes,14:#,0} {TotalCount,10:#,0}  (whole heap, {Types.Count} types)");
        return builder.ToString();
    }
}
