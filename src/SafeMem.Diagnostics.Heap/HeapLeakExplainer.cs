namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// Explains a <see cref="LeakWatcher"/>'s retained objects with this package's engine: the process dumps itself, the
/// watcher's weak handles lead to the objects in the dump, and each object gets its shortest retention path from a GC
/// root, grouped by signature. <see cref="LeakWatcher"/> finds this class by name when the application references
/// the package; nothing needs to create it.
/// </summary>
/// <remarks>
/// <para>
/// <b>What it costs</b> (once per analysis): the runtime writes a dump of the whole process, suspending every thread
/// while it does (<see cref="LeakExplanation.Pause"/>); the dump takes about as much disk as the process's memory
/// (<see cref="LeakExplanation.DumpBytes"/>; the file is unlinked at once on Unix and its space freed when the analysis
/// ends, also on failure); then ClrMD reads it here, walking the heap from the roots until every retained object is
/// reached (CPU, and memory for the walk's bookkeeping). No garbage collection is induced: the watcher has just seen
/// the objects alive after full collections, and a collection would lengthen the pause.
/// </para>
/// <para>
/// <b>Holds</b> nothing between calls (stateless); during a call, the dump, never an object of the process (it works
/// with addresses in the dump). <b>Thread-safe</b>: dumps are written one at a time per process, so concurrent
/// calls (several watchers) wait for each other. <b>Failures</b>: a process that cannot dump itself (diagnostics
/// disabled by <c>DOTNET_EnableDiagnostics=0</c>, no permission to <c>ptrace</c> in a container, a missing or read-only
/// directory, a full disk) is reported as <see cref="LeakExplanation.UnavailableReason"/>, never thrown; cancellation is
/// observed between the dump and each step of the walk.
/// </para>
/// </remarks>
public sealed class HeapLeakExplainer : ILeakExplainer
{
    // The engine groups at most this many signatures per query; the watcher keeps 1,000 objects by default.
    private const int MaximumGroups = 1_000;

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is null.</exception>
    public Task<LeakExplanation> ExplainAsync(LeakExplanationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();

        // Synchronous: the engine reads the dump with blocking I/O, and the watcher already calls this on the pool.
        return Task.FromResult(Explain(request, cancellationToken));
    }

    private static LeakExplanation Explain(LeakExplanationRequest request, CancellationToken cancellationToken)
    {
        int count = request.WeakHandles.Count;
        if (count == 0)
        {
            return new LeakExplanation { Traces = [] };
        }

        HeapSnapshot snapshot;
        try
        {
            snapshot = HeapSnapshot.Take(new HeapSnapshotOptions
            {
                CollectGarbage = false,
                SummarizeTypes = false,
                DumpDirectory = request.DumpDirectory,
            });
        }
        catch (HeapSnapshotUnavailableException exception)
        {
            return LeakExplanation.Unavailable(count, exception.Reason);
        }

        using (snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IReadOnlyList<ulong> addresses = snapshot.GetHandleTargets(request.WeakHandles);
            cancellationToken.ThrowIfCancellationRequested();

            // Every live object starts unreached; the groups then name the ones a root reaches.
            var traces = new RetentionTrace?[count];
            var positions = new Dictionary<ulong, List<int>>();
            for (int i = 0; i < count; i++)
            {
                if (addresses[i] != 0)
                {
                    traces[i] = RetentionTrace.Unreached;
                    (positions.TryGetValue(addresses[i], out List<int>? list) ? list : positions[addresses[i]] = []).Add(i);
                }
            }

            IReadOnlyList<RetentionPathGroup> groups = snapshot.GroupRetentionPaths(positions.Keys, MaximumGroups);
            foreach (RetentionPathGroup group in groups)
            {
                RetentionPath example = group.Example;
                var trace = new RetentionTrace(example.Root, example.Hops, example.Target) { Signature = group.Signature };
                foreach (ulong address in group.Objects)
                {
                    foreach (int position in positions[address])
                    {
                        traces[position] = trace;
                    }
                }
            }

            var notes = new List<string>(snapshot.InspectionNotes);
            if (groups.Count == MaximumGroups)
            {
                notes.Add($"more than {MaximumGroups:N0} distinct retention paths: the objects of the smaller groups are shown without a path");
            }

            return new LeakExplanation
            {
                Traces = traces,
                Notes = notes,
                Pause = snapshot.DumpDuration,
                DumpBytes = snapshot.DumpBytes,
            };
        }
    }
}
