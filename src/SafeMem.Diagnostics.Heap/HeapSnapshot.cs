using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.Runtime;
using SafeMem.Diagnostics.Heap.Internal;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// The objects on a .NET heap at one moment, per type (count and bytes), like pympler's summary or a
/// <c>tracemalloc</c> snapshot, of the current process, of another process by id, or of a dump file; two snapshots
/// <see cref="Diff"/> into the types that grew. A snapshot also finds what retains given objects: the shortest chain
/// of references from a GC root (objgraph's back-reference chains), one by one or grouped by the way they are held.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Take()"/> runs a full blocking, compacting collection (with finalizers), then has the process dump itself
/// through its diagnostics server and reads the dump with ClrMD (about a second, longer for a large heap; the whole
/// process is suspended while the dump is written). <see cref="TakeFromProcess"/> dumps another .NET process the same
/// way (no collection can be forced there: its rows count the objects reachable from its roots).
/// </para>
/// <para>
/// The snapshot keeps the dump open (a dump it wrote is already deleted on Unix, and deleted on disposal elsewhere) so
/// that queries can read it; <see cref="Dispose"/> releases it. The rows stay readable after disposal when they were read
/// at once (<see cref="HeapSnapshotOptions.SummarizeTypes"/>, the default). Holding a snapshot keeps no object of the
/// process alive. Thread-safe: the rows are immutable and queries are serialized. Dumps are written one at a time per
/// process (a second <see cref="Take()"/> waits for the first). A predicate is user code: its exception propagates
/// and leaves the snapshot usable.
/// </para>
/// </remarks>
public sealed partial class HeapSnapshot : IDisposable
{
    private readonly object _sync = new();
    private readonly TypeNames _names;
    private HeapDump? _dump;
    private RetentionGraph? _graph;
    private IReadOnlyList<HeapTypeSummary>? _types;
    private readonly bool _countReachableOnly;

    private HeapSnapshot(HeapDump dump, DateTimeOffset takenAt, bool countReachableOnly)
    {
        _dump = dump;
        _names = new TypeNames(resolveThroughReflection: dump.IsCurrentProcess);
        _countReachableOnly = countReachableOnly;
        TakenAt = takenAt;
        ProcessId = dump.ProcessId;
        IsCurrentProcess = dump.IsCurrentProcess;
        DumpBytes = dump.Bytes;
        DumpDuration = dump.WriteDuration;
    }

    /// <summary>Gets one row per type, largest <see cref="HeapTypeSummary.Bytes"/> first.</summary>
    /// <exception cref="ObjectDisposedException">The rows were not read yet (<see cref="HeapSnapshotOptions.SummarizeTypes"/> off) and the snapshot was disposed.</exception>
    public IReadOnlyList<HeapTypeSummary> Types
    {
        get
        {
            lock (_sync)
            {
                return _types ??= Summarize();
            }
        }
    }

    /// <summary>Gets the number of objects the rows count.</summary>
    public long TotalCount => Types.Sum(t => t.Count);

    /// <summary>Gets the total bytes of the objects the rows count.</summary>
    public long TotalBytes => Types.Sum(t => t.Bytes);

    /// <summary>Gets when the snapshot was taken.</summary>
    public DateTimeOffset TakenAt { get; }

    /// <summary>Gets the id of the process the snapshot is of (0 when a dump file does not say).</summary>
    public int ProcessId { get; }

    /// <summary>Gets whether the snapshot is of the current process (then rows and objects know their <see cref="Type"/>).</summary>
    public bool IsCurrentProcess { get; }

    /// <summary>Gets the size in bytes of the dump the snapshot reads: the disk space it holds until it is disposed (the file itself is already deleted on Unix).</summary>
    public long DumpBytes { get; }

    /// <summary>
    /// Gets how long the runtime took to write the dump, during which the dumped process is suspended; <see langword="null"/>
    /// for a dump file opened with <see cref="OpenDump"/>.
    /// </summary>
    public TimeSpan? DumpDuration { get; }

    /// <summary>
    /// Gets what could not be inspected, one note per kind of root ClrMD failed on or may see incompletely (on Linux
    /// and macOS, stack locals). Filled by the first retention path query; empty before it.
    /// </summary>
    public IReadOnlyList<string> InspectionNotes
    {
        get
        {
            lock (_sync)
            {
                return _graph?.InspectionNotes.ToArray() ?? [];
            }
        }
    }

    /// <summary>Collects garbage, then takes a snapshot of the current process, dumping into the system's temporary directory.</summary>
    /// <returns>The snapshot; dispose it to release the dump it reads.</returns>
    /// <exception cref="HeapSnapshotUnavailableException">The process could not dump or read itself (the reason says why).</exception>
    public static HeapSnapshot Take() => Take(options: null);

    /// <summary>Takes a snapshot of the current process.</summary>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The snapshot; dispose it to release the dump it reads.</returns>
    /// <exception cref="HeapSnapshotUnavailableException">The process could not dump or read itself (the reason says why).</exception>
    public static HeapSnapshot Take(HeapSnapshotOptions? options)
    {
        options ??= new HeapSnapshotOptions();
        using InspectionGate.Releaser gate = InspectionGate.Enter();
        if (options.CollectGarbage)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        HeapDump dump = HeapDump.Create(Environment.ProcessId, options.DumpDirectory);
        return Open(dump, countReachableOnly: !options.CollectGarbage, options.SummarizeTypes);
    }

    /// <summary>
    /// Takes a snapshot of another .NET process (or of this one, without a collection) through its diagnostics
    /// server: the target's runtime writes the dump (suspending the target meanwhile), ClrMD reads it here with the DAC
    /// beside the target's runtime. The rows count the objects reachable from the target's roots (no collection can be
    /// forced there), found by a walk of the whole heap.
    /// </summary>
    /// <param name="processId">The target's process id. Positive.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults (<see cref="HeapSnapshotOptions.CollectGarbage"/> does not apply).</param>
    /// <returns>The snapshot; dispose it to release the dump it reads.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="processId"/> is zero or negative.</exception>
    /// <exception cref="HeapSnapshotUnavailableException">No such process, not a .NET process, no permission to reach its diagnostics server, or the dump could not be read (the reason says why).</exception>
    public static HeapSnapshot TakeFromProcess(int processId, HeapSnapshotOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processId);
        options ??= new HeapSnapshotOptions();
        using InspectionGate.Releaser gate = InspectionGate.Enter();
        HeapDump dump = HeapDump.Create(processId, options.DumpDirectory);
        return Open(dump, countReachableOnly: true, options.SummarizeTypes);
    }

    /// <summary>
    /// Opens an existing dump file of a .NET process (a full or heap dump, e.g. from <c>dotnet-dump collect</c>); the file
    /// is only read, never deleted. The rows count the objects reachable from the dump's roots.
    /// </summary>
    /// <param name="dumpPath">The dump file.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults (only <see cref="HeapSnapshotOptions.SummarizeTypes"/> applies).</param>
    /// <returns>The snapshot; dispose it to close the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="dumpPath"/> is null, empty or white space.</exception>
    /// <exception cref="HeapSnapshotUnavailableException">The file could not be read as a .NET dump (the reason says why).</exception>
    public static HeapSnapshot OpenDump(string dumpPath, HeapSnapshotOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dumpPath);
        options ??= new HeapSnapshotOptions();
        return Open(HeapDump.Open(dumpPath), countReachableOnly: true, options.SummarizeTypes);
    }

    private static HeapSnapshot Open(HeapDump dump, bool countReachableOnly, bool summarize)
    {
        try
        {
            // The moment the heap was frozen, not when reading it began: series of snapshots measure time between them.
            var snapshot = new HeapSnapshot(dump, dump.WriteStartedAt ?? DateTimeOffset.UtcNow, countReachableOnly);
            if (summarize)
            {
                // Read the rows now, then hold the open file only, not ClrMD's caches: a snapshot kept for a later
                // Diff must not show up in the next snapshot of this process as growth.
                snapshot._types = snapshot.Summarize();
                if (dump.IsCurrentProcess)
                {
                    snapshot._graph = null;
                    dump.ReleaseReader();
                }
            }

            return snapshot;
        }
        catch
        {
            dump.Dispose();
            throw;
        }
    }

    /// <summary>Compares two snapshots, type by type (see <see cref="HeapSnapshotDiff.Compare"/> for how rows pair).</summary>
    /// <param name="before">The earlier snapshot.</param>
    /// <param name="after">The later snapshot.</param>
    /// <returns>The types that grew (largest byte growth first) and those that shrank.</returns>
    /// <remarks>Works on disposed snapshots whose rows were read (it reads only their rows).</remarks>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static HeapSnapshotDiff Diff(HeapSnapshot before, HeapSnapshot after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return HeapSnapshotDiff.Compare(before.Types, after.Types);
    }

    /// <summary>Gets the row of a type, or <see langword="null"/> when the heap held no object of exactly that type.</summary>
    /// <param name="type">The exact type (derived types have rows of their own). Only a snapshot of the current process knows types.</param>
    /// <returns>The type's row, or <see langword="null"/>.</returns>
    public HeapTypeSummary? Find(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Types.FirstOrDefault(row => row.Type == type);
    }

    /// <summary>Gets the row of a type by its full name, or <see langword="null"/> when the heap held no object of that name.</summary>
    /// <param name="typeName">The full name in C# spelling, as <see cref="HeapTypeSummary.TypeName"/> gives it.</param>
    /// <returns>The first row of that name, or <see langword="null"/>.</returns>
    public HeapTypeSummary? Find(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        return Types.FirstOrDefault(row => row.TypeName == typeName);
    }

    /// <summary>Counts the objects in the snapshot's heap that match a predicate (every object on the heap is offered, reachable or not).</summary>
    /// <param name="predicate">Called once per object on the heap; user code, its exceptions propagate.</param>
    /// <returns>The number of matching objects.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public int Count(Func<HeapObject, bool> predicate) => FindObjects(predicate).Count;

    /// <summary>Finds the objects on the snapshot's heap that match a predicate, in heap order.</summary>
    /// <param name="predicate">Called once per object on the heap; user code, its exceptions propagate.</param>
    /// <returns>The matching objects (their addresses identify them in this snapshot's queries).</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<HeapObject> FindObjects(Func<HeapObject, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        lock (_sync)
        {
            return HeapObjects.Matching(Dump.Heap, _names, predicate);
        }
    }

    /// <summary>
    /// Gets the object a GC handle of the dumped process refers to: how the current process finds its own objects in
    /// its snapshot. Allocate a weak handle to each object of interest before <see cref="Take()"/> (a weak handle keeps
    /// nothing alive, so the paths found are the real ones), pass <c>GCHandle.ToIntPtr(handle)</c> here, free it after.
    /// </summary>
    /// <param name="handle">The handle's value (<c>GCHandle.ToIntPtr</c>).</param>
    /// <param name="objectAddress">The object's address in this snapshot, or 0.</param>
    /// <returns><see langword="true"/> when the handle exists in the dump and refers to an object; <see langword="false"/> when the object had died by the time of the dump.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public bool TryGetHandleTarget(nint handle, out ulong objectAddress)
    {
        lock (_sync)
        {
            foreach (ClrHandle candidate in Dump.Runtime.EnumerateHandles())
            {
                if (candidate.Address == (ulong)handle)
                {
                    objectAddress = candidate.Object.Address;
                    return objectAddress != 0;
                }
            }

            objectAddress = 0;
            return false;
        }
    }

    /// <summary>
    /// Gets the objects several GC handles of the dumped process refer to, in one pass over the handle table:
    /// <see cref="TryGetHandleTarget"/> for many handles at once (the leak watcher asks for up to thousands, in a process
    /// whose handle table may hold hundreds of thousands).
    /// </summary>
    /// <param name="handles">The handles' values (<c>GCHandle.ToIntPtr</c>).</param>
    /// <returns>One address per handle, in order: the object's address in this snapshot, or 0 when the handle is not in the dump or its object had died.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<ulong> GetHandleTargets(IReadOnlyList<nint> handles)
    {
        ArgumentNullException.ThrowIfNull(handles);
        var wanted = new Dictionary<ulong, List<int>>(handles.Count);
        for (int i = 0; i < handles.Count; i++)
        {
            ref List<int>? positions = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(wanted, (ulong)handles[i], out _);
            (positions ??= []).Add(i);
        }

        var targets = new ulong[handles.Count];
        lock (_sync)
        {
            int left = wanted.Count;
            foreach (ClrHandle candidate in Dump.Runtime.EnumerateHandles())
            {
                if (left == 0)
                {
                    break;
                }

                if (wanted.TryGetValue(candidate.Address, out List<int>? positions))
                {
                    foreach (int position in positions)
                    {
                        targets[position] = candidate.Object.Address;
                    }

                    left--;
                }
            }
        }

        return targets;
    }

    /// <summary>
    /// Finds what keeps objects matching a predicate alive: for up to three of them, the shortest chain of references
    /// from a GC root (objgraph's <c>find_backref_chain</c>).
    /// </summary>
    /// <param name="predicate">Called once per object on the heap; user code, its exceptions propagate.</param>
    /// <returns>The paths found, shortest first; empty when no object matches or none is reachable from a root ClrMD can see.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<RetentionPath> FindRetentionPaths(Func<HeapObject, bool> predicate) => FindRetentionPaths(predicate, maxPaths: 3);

    /// <summary>
    /// Finds what keeps objects matching a predicate alive: for up to <paramref name="maxPaths"/> of them, the
    /// shortest chain of references from a GC root (objgraph's <c>find_backref_chain</c>).
    /// </summary>
    /// <param name="predicate">Called once per object on the heap; user code, its exceptions propagate.</param>
    /// <param name="maxPaths">The most paths to return (one per matching object). From 1 to 100.</param>
    /// <returns>The paths found, shortest first; empty when no object matches or none is reachable from a root ClrMD can see.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<RetentionPath> FindRetentionPaths(Func<HeapObject, bool> predicate, int maxPaths)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        CheckMaxPaths(maxPaths);
        return FindRetentionPaths(FindObjects(predicate).Select(o => o.Address), maxPaths);
    }

    /// <summary>Finds the shortest retention path of up to <paramref name="maxPaths"/> of the given objects, one path per object.</summary>
    /// <param name="objectAddresses">Addresses of objects in this snapshot (<see cref="HeapObject.Address"/>, <see cref="TryGetHandleTarget"/>).</param>
    /// <param name="maxPaths">The most paths to return. From 1 to 100.</param>
    /// <returns>The paths found, shortest first; empty when no root ClrMD can see reaches any of them.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<RetentionPath> FindRetentionPaths(IEnumerable<ulong> objectAddresses, int maxPaths)
    {
        ArgumentNullException.ThrowIfNull(objectAddresses);
        CheckMaxPaths(maxPaths);
        var targets = new HashSet<ulong>(objectAddresses.Where(a => a != 0));
        lock (_sync)
        {
            RetentionGraph graph = Graph;
            return targets.Count == 0 ? [] : graph.FindPaths(targets, maxPaths, alternativesPerTarget: false).OrderBy(p => p.Length).ToList();
        }
    }

    /// <summary>
    /// Finds several shortest retention paths to one object, ending in different referrers (two collections that both
    /// hold it, say): the explanation of one object that should have died.
    /// </summary>
    /// <param name="objectAddress">The object's address in this snapshot. Not 0.</param>
    /// <param name="maxPaths">The most paths to return. From 1 to 100.</param>
    /// <returns>The paths found, shortest first; empty when no root ClrMD can see reaches it.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<RetentionPath> FindRetentionPathsTo(ulong objectAddress, int maxPaths = 3)
    {
        ArgumentOutOfRangeException.ThrowIfZero(objectAddress);
        CheckMaxPaths(maxPaths);
        lock (_sync)
        {
            return Graph.FindPaths(new HashSet<ulong> { objectAddress }, maxPaths, alternativesPerTarget: true).OrderBy(p => p.Length).ToList();
        }
    }

    /// <summary>
    /// Finds the shortest retention path of every given object and groups the objects by the path's
    /// <see cref="RetentionPath.Signature"/> (equal but for array indexes and thread ids), largest group first: a
    /// thousand objects held by one static list are one group, not a thousand paths.
    /// </summary>
    /// <param name="objectAddresses">Addresses of objects in this snapshot.</param>
    /// <param name="maxGroups">The most groups to return. From 1 to 1,000.</param>
    /// <returns>The groups; objects no inspected root reaches are in none (compare the counts).</returns>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public IReadOnlyList<RetentionPathGroup> GroupRetentionPaths(IEnumerable<ulong> objectAddresses, int maxGroups = 10)
    {
        ArgumentNullException.ThrowIfNull(objectAddresses);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroups, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxGroups, 1_000);
        var targets = new HashSet<ulong>(objectAddresses.Where(a => a != 0));
        lock (_sync)
        {
            RetentionGraph graph = Graph;
            return targets.Count == 0 ? [] : graph.GroupPaths(targets, out _).Take(maxGroups).ToList();
        }
    }

    /// <summary>Releases the dump (deleting it if this snapshot wrote it); rows already read stay readable.</summary>
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
        IReadOnlyList<HeapTypeSummary> types = Types;
        CultureInfo culture = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        builder.Append(culture, $"{"Bytes",14} {"Count",10}  Type\n");
        foreach (HeapTypeSummary row in types.Take(maxRows))
        {
            builder.Append(culture, $"{row.Bytes,14:#,0} {row.Count,10:#,0}  {row.TypeName}\n");
        }

        builder.Append(culture, $"{types.Sum(t => t.Bytes),14:#,0} {types.Sum(t => t.Count),10:#,0}  (whole heap, {types.Count} types)");
        return builder.ToString();
    }

    /// <summary>Gets how many objects the last retention path search reached (for tests of its cost).</summary>
    internal int LastSearchReached => _graph?.LastSearchReached ?? 0;

    private HeapDump Dump => _dump ?? throw new ObjectDisposedException(nameof(HeapSnapshot));

    // Built once per snapshot (its roots and static-field map are the costly part), kept until disposal.
    private RetentionGraph Graph => _graph ??= new RetentionGraph(Dump.Runtime, _names);

    private List<HeapTypeSummary> Summarize()
    {
        HeapDump dump = Dump;
        Func<ClrType, bool> exclude = IsCurrentProcess ? type => HeapObjects.IsInspectorType(type, _names) : static _ => false;
        Dictionary<ulong, (ClrType Type, long Count, long Bytes)> totals;
        if (!_countReachableOnly)
        {
            totals = HeapObjects.SummarizeAll(dump.Heap, IsCurrentProcess ? _names : null);
        }
        else
        {
            totals = Graph.SummarizeReachable(out HashSet<ulong> reached);
            if (IsCurrentProcess)
            {
                // This process's own inspection (kept snapshots, their rows) is reachable too: take it out, as
                // SummarizeAll does.
                HeapObjects.Subtract(dump.Heap, totals, HeapObjects.InspectionFootprint(dump.Heap, _names), reached);
            }
        }

        return HeapObjects.Rows(totals, _names, exclude);
    }

    private static void CheckMaxPaths(int maxPaths)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPaths, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPaths, 100);
    }
}
