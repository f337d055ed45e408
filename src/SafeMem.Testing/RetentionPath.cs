using System.Text;

namespace SafeMem.Testing;

/// <summary>
/// One chain of references that keeps an object alive: a GC root, then each object on the way as
/// <c>Type.field</c> (or <c>Type[index]</c> for an array element), ending at the retained object.
/// </summary>
/// <remarks>
/// Immutable, thread-safe. Compiler-generated types and fields carry the names the source gave them: a closure is
/// "closure in Type.Method", a running async method's task is "task of async Type.Method", a field-like event's
/// backing field is "Name (event)", a hoisted local keeps its name. It is read from a dump of the process at the
/// moment of the failure; holding it keeps no object alive.
/// </remarks>
public sealed class RetentionPath
{
    internal RetentionPath(RetentionRootKind rootKind, string root, IReadOnlyList<string> hops, string target)
    {
        RootKind = rootKind;
        Root = root;
        Hops = hops;
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
}
