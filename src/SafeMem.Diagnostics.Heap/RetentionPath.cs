using System.Text;
using System.Text.RegularExpressions;

namespace SafeMem.Diagnostics.Heap;

/// <summary>
/// One chain of references that keeps an object alive: a GC root, then each object on the way as
/// <c>Type.field</c> (or <c>Type[index]</c> for an array element), ending at the retained object.
/// </summary>
/// <remarks>
/// Immutable, thread-safe. Compiler-generated types and fields carry the names the source gave them: a closure is
/// "closure in Type.Method", a running async method's task is "task of async Type.Method", a field-like event's
/// backing field is "Name (event)", a hoisted local keeps its name. It is read from a dump at the moment of the
/// snapshot; holding it keeps no object alive. Tools that store paths (a snapshot file) rebuild them with the public
/// constructor.
/// </remarks>
public sealed partial class RetentionPath
{
    private string? _signature;

    /// <summary>Initializes a path from its parts (for tools that read paths back from a file).</summary>
    /// <param name="rootKind">The kind of root the path starts at.</param>
    /// <param name="root">The root, e.g. <c>static field MyApp.Cache.s_items</c>.</param>
    /// <param name="hops">The references from the root to the object, each as <c>Type.field</c> or <c>Type[index]</c>.</param>
    /// <param name="target">The display name of the retained object's type.</param>
    /// <exception cref="ArgumentNullException">An argument, or one of <paramref name="hops"/>, is <see langword="null"/>.</exception>
    public RetentionPath(RetentionRootKind rootKind, string root, IEnumerable<string> hops, string target)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(hops);
        ArgumentNullException.ThrowIfNull(target);
        string[] copy = [.. hops];
        foreach (string hop in copy)
        {
            ArgumentNullException.ThrowIfNull(hop, nameof(hops));
        }

        RootKind = rootKind;
        Root = root;
        Hops = copy;
        Target = target;
    }

    /// <summary>Gets the kind of root the path starts at.</summary>
    public RetentionRootKind RootKind { get; }

    /// <summary>Gets the root, e.g. <c>static field MyApp.Cache.s_items</c> or <c>GC handle (Strong)</c>.</summary>
    public string Root { get; }

    /// <summary>
    /// Gets the references from the root to the retained object, each as <c>Type.field</c> or <c>Type[index]</c>:
    /// the object of that type refers to the next one through that field or element. Empty when the root refers to
    /// the object directly.
    /// </summary>
    public IReadOnlyList<string> Hops { get; }

    /// <summary>Gets the display name of the retained object's type (the end of the path).</summary>
    public string Target { get; }

    /// <summary>Gets the number of references from the root to the object.</summary>
    public int Length => Hops.Count + 1;

    /// <summary>
    /// Gets the path with what differs between objects held the same way left out: array indexes (<c>Widget[][]</c>
    /// for <c>Widget[][17]</c>), thread ids of stack roots, and how often a repeated hop repeats (a linked list's
    /// <c>Node.next (12 times)</c>). Paths with equal signatures retain their objects by the
    /// same mechanism (<see cref="HeapSnapshot.GroupRetentionPaths(IEnumerable{ulong}, int)"/> groups by it).
    /// </summary>
    public string Signature => _signature ??= Generalize(ToString());

    /// <summary>Renders the path one step per line: the root, each hop, then the object.</summary>
    /// <returns>The path as text.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder(Root);
        foreach (string hop in Hops)
        {
            builder.Append("\n  -> ").Append(hop);
        }

        return builder.Append("\n  -> ").Append(Target).ToString();
    }

    internal static string Generalize(string text)
        => RepeatPattern().Replace(ThreadPattern().Replace(IndexPattern().Replace(text, "[]"), string.Empty), " (repeated)");

    [GeneratedRegex(@" \(\d+ times\)")]
    private static partial Regex RepeatPattern();

    [GeneratedRegex(@"\[\d+(?:,\d+)*\]")]
    private static partial Regex IndexPattern();

    [GeneratedRegex(@" \(thread \d+\)")]
    private static partial Regex ThreadPattern();
}
