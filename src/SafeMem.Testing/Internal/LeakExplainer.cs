using System.Text;
using Microsoft.Diagnostics.Runtime;

namespace SafeMem.Testing.Internal;

/// <summary>Builds the <see cref="LeakException"/> for an object or objects found alive: dump, paths, message.</summary>
internal static class LeakExplainer
{
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

        using InspectionGate.Releaser gate = InspectionGate.Enter();
        HeapDump dump;
        try
        {
            dump = HeapDump.Create(options.DumpDirectory);
        }
        catch (HeapDumpUnavailableException exception)
        {
            return Unavailable(headline, typeName, 1, exception.Message, exception);
        }

        using (dump)
        {
            ulong target = 0;
            foreach (ClrHandle handle in dump.Runtime.EnumerateHandles())
            {
                if (handle.Address == (ulong)weakHandle)
                {
                    target = handle.Object.Address;
                    break;
                }
            }

            if (target == 0)
            {
                // The weak handle is cleared in the dump: the object died after the last check. Not a leak.
                return null;
            }

            var graph = new RetentionGraph(dump.Runtime);
            List<RetentionPath> paths = graph.FindPaths(new HashSet<ulong> { target }, options.MaxPaths, alternativesPerTarget: true);
            return Explained(headline, typeName, 1, paths, graph.InspectionNotes);
        }
    }

    /// <summary>Explains why objects found in an already open dump are alive.</summary>
    public static LeakException ExplainObjects(HeapDump dump, IReadOnlyCollection<ulong> survivors, string headline, string typeName, int survivorCount, LeakAssertOptions options)
    {
        var graph = new RetentionGraph(dump.Runtime);
        List<RetentionPath> paths = graph.FindPaths(new HashSet<ulong>(survivors), options.MaxPaths, alternativesPerTarget: false);
        return Explained(headline, typeName, survivorCount, paths, graph.InspectionNotes);
    }

    public static LeakException Unavailable(string headline, string typeName, int survivorCount, string reason, Exception? inner)
    {
        string message = $"{headline}\nThe retention path is unavailable: {reason}. Something still references the object; " +
            "look for static fields, events, timers, caches and GC handles that can reach it.";
        return new LeakException(message, typeName, survivorCount, [], reason, [], inner);
    }

    private static LeakException Explained(string headline, string typeName, int survivorCount, List<RetentionPath> paths, IReadOnlyList<string> notes)
    {
        paths.Sort((a, b) => a.Length.CompareTo(b.Length));
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
