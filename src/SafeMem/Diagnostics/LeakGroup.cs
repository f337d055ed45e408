using System.Globalization;
using System.Text;

namespace SafeMem.Diagnostics;

/// <summary>
/// The retained objects of one <see cref="LeakAnalysis"/> that share a retention signature: one leak, however many
/// objects it holds. A thousand request objects kept by one static list are one group of 1,000, with one path.
/// </summary>
/// <remarks>
/// <para>
/// <b>The signature</b> is the retention path with what varies between instances of one leak taken out (the heap
/// engine's <see cref="RetentionTrace.Signature"/>): array and collection indexes (<c>Order[][17]</c> becomes
/// <c>Order[][]</c>) and thread ids. It runs from the root (a static field, a GC handle, a thread's stack, the
/// finalizer queue) through every reference to the retained object's type: its first element is the last object the
/// watcher can call plainly alive, the root's owner (a static field's type, a handle's owner), and the rest are the
/// references to look at. Objects that were alive but that no inspected root reaches share one signature per type.
/// </para>
/// <para>Immutable and thread-safe; holds names only, never an object of the process.</para>
/// </remarks>
public sealed class LeakGroup
{
    internal LeakGroup(string signature, string typeName, int count, IReadOnlyList<string> descriptions, RetentionTrace? trace, long? retainedBytes)
    {
        Signature = signature;
        TypeName = typeName;
        Count = count;
        Descriptions = descriptions;
        Root = trace?.Root;
        References = trace?.References ?? [];
        Path = trace is null ? [] : LeakSignature.Lines(trace.Root, trace.References, trace.Root is null ? typeName : trace.Target);
        RetainedBytes = retainedBytes;
    }

    /// <summary>Gets the group's signature: its retention path without indexes and thread ids, as the explainer spells it; <c>(no known path) -&gt; </c> and the type for objects without a path.</summary>
    public string Signature { get; }

    /// <summary>Gets the retained objects' type name as C# writes it.</summary>
    public string TypeName { get; }

    /// <summary>Gets how many retained objects share the signature.</summary>
    public int Count { get; }

    /// <summary>Gets the distinct descriptions given to <see cref="LeakWatcher.Watch"/> for the group's objects, most frequent first (at most 5).</summary>
    public IReadOnlyList<string> Descriptions { get; }

    /// <summary>
    /// Gets the root of the group's path (<c>static field MyApp.AuditLog.s_recent</c>), or <see langword="null"/> when
    /// no path is known: no inspected root reached the objects, or the heap could not be read
    /// (<see cref="LeakAnalysis.UnavailableReason"/>).
    /// </summary>
    public string? Root { get; }

    /// <summary>Gets the references from the root to the first object of the group, each as <c>Type.field</c> or <c>Type[index]</c>.</summary>
    public IReadOnlyList<string> References { get; }

    /// <summary>
    /// Gets the path of the group's first object as readable lines, as <c>LeakException</c> prints them: the root, then
    /// <c>  -&gt; Type.field</c> for each reference, then <c>  -&gt; </c> and the object's type. For objects no inspected
    /// root reaches, a line saying so; empty when the heap could not be read.
    /// </summary>
    public IReadOnlyList<string> Path { get; }

    /// <summary>Gets the bytes the group's objects keep alive (their own and what only they reach), or <see langword="null"/> when the explainer did not compute it.</summary>
    public long? RetainedBytes { get; }

    /// <summary>Returns the group as text: count and type, bytes, descriptions, signature and path.</summary>
    /// <returns>The multi-line group.</returns>
    public override string ToString()
    {
        CultureInfo culture = CultureInfo.InvariantCulture;
        var builder = new StringBuilder();
        builder.Append(culture, $"{Count:N0} x {TypeName}");
        if (RetainedBytes is { } bytes)
        {
            builder.Append(culture, $" (keeping {bytes:N0} bytes alive)");
        }

        builder.Append("\n  watched as: ").Append(string.Join("; ", Descriptions));
        if (Path.Count == 0)
        {
            return builder.Append("\n  retention path: unknown").ToString();
        }

        builder.Append(Count == 1 ? "\n  retention path:" : "\n  retention path (of the first):");
        foreach (string line in Path)
        {
            builder.Append("\n    ").Append(line);
        }

        return builder.ToString();
    }
}
