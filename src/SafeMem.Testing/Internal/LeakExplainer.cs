using System.Text;
using SafeMem.Diagnostics.Heap;

namespace SafeMem.Testing.Internal;

/// <summary>Builds the <see cref="LeakException"/> for an object or objects found alive: snapshot, paths, message.</summary>
internal static class LeakExplainer
{
    /// <summary>Options of a snapshot taken to explain: no collection of its own (the assertion already collected), paths only.</summary>
    public static HeapSnapshotOptions SnapshotOptions(LeakAssertOptions options, bool collect)
        => new() { DumpDirectory = options.DumpDirectory, CollectGarbage = collect, SummarizeTypes = false };

    /// <summary>
    /// Explains why the object behind a weak handle is alive, or returns <see langword="null"/> when the dump shows it
    /// died after all (it was collected between the last check and the dump).
    /// </summary>
    public static LeakException? ExplainHandle(nint weakHandle, string typeName, int rounds, LeakAssertOptions options)
    {
        string headline = $"{typeName} is still alive after {rounds} full garbage collection{(rounds == 1 ? string.Empty : "s")}.";
        if (!options.ExplainFailures)
        {
            return Unavailable(headline, typeName, 1, "explaining failures is turned off (LeakAssertOptions.ExplainFailures)", null);
        }

        HeapSnapshot snapshot;
        try
        {
            snapshot = HeapSnapshot.Take(SnapshotOptions(options, collect: false));
        }
        catch (HeapSnapshotUnavailableException exception)
        {
            return Unavailable(headline, typeName, 1, exception.Reason, exception);
        }

        using (snapshot)
        {
            if (!snapshot.TryGetHandleTarget(weakHandle, out ulong target))
            {
                // The weak handle is cleared in the dump: the object died after the last check. Not a leak.
                return null;
            }

            IReadOnlyList<RetentionPath> paths = snapshot.FindRetentionPathsTo(target, options.MaxPaths);
            return Explained(headline, typeName, 1, paths, snapshot.InspectionNotes);
        }
    }

    /// <summary>Explains why objects found in an open snapshot are alive.</summary>
    public static LeakException ExplainObjects(HeapSnapshot snapshot, IEnumerable<ulong> survivors, string headline, string typeName, int survivorCount, LeakAssertOptions options)
    {
        IReadOnlyList<RetentionPath> paths = snapshot.FindRetentionPaths(survivors, options.MaxPaths);
        return Explained(headline, typeName, survivorCount, paths, snapshot.InspectionNotes);
    }

    public static LeakException Unavailable(string headline, string typeName, int survivorCount, string reason, Exception? inner)
    {
        string message = $"{headline}\nThe retention path is unavailable: {reason}. Something still references the object; " +
            "look for static fields, events, timers, caches and GC handles that can reach it.";
        return new LeakException(message, typeName, survivorCount, [], reason, [], inner);
    }

    private static LeakException Explained(string headline, string typeName, int survivorCount, IReadOnlyList<RetentionPath> found, IReadOnlyList<string> notes)
    {
        List<RetentionPath> paths = [.. found.OrderBy(p => p.Length)];
        var message = new StringBuilder(headline);
        if (paths.Count == 0)
        {
            message.Append("\nNo path from the roots ClrMD could inspect reaches it: it is most likely held by a local " +
                "variable the stack walk did not report (a test method's own local, or a frame still running on another thread).");
        }

        for (int i = 0; i < paths.Count; i++)
        {
            message.Append($"\nRetention path {i + 1} of {paths.Count} (from {Describe(paths[i].RootKind)}):\n  ")
                .Append(paths[i].ToString().Replace("\n", "\n  ", StringComparison.Ordinal));
        }

        if (notes.Count > 0)
        {
            message.Append("\nNot fully inspected:");
            foreach (string note in notes)
            {
                message.Append("\n  - ").Append(note);
            }
        }

        return new LeakException(message.ToString(), typeName, survivorCount, paths, pathUnavailableReason: paths.Count == 0 ? "no path from an inspected root" : null, notes, null);
    }

    private static string Describe(RetentionRootKind kind) => kind switch
    {
        RetentionRootKind.StaticField => "a static field",
        RetentionRootKind.GCHandle => "a GC handle",
        RetentionRootKind.StackLocal => "a stack local",
        RetentionRootKind.FinalizerQueue => "the finalizer queue",
        _ => "a root",
    };
}
