namespace SafeMem.Diagnostics;

/// <summary>
/// The shortest chain of references that keeps one object alive, as an <see cref="ILeakExplainer"/> read it from the
/// heap: a GC root, then each object on the way as <c>Type.field</c> (or <c>Type[index]</c> for an array element),
/// ending at the object.
/// </summary>
/// <remarks>Immutable, thread-safe; holds names only, never an object of the process.</remarks>
public sealed class RetentionTrace
{
    /// <summary>Creates the trace of an object a root reaches.</summary>
    /// <param name="root">The root, e.g. <c>static field MyApp.Cache.s_items</c> or <c>GC handle (Strong)</c>.</param>
    /// <param name="references">The references from the root to the object, each as <c>Type.field</c> or <c>Type[index]</c>; empty when the root refers to the object directly.</param>
    /// <param name="target">The display name of the object's type.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public RetentionTrace(string root, IReadOnlyList<string> references, string target)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(target);
        Root = root;
        References = references;
        Target = target;
    }

    private RetentionTrace()
    {
        References = [];
        Target = string.Empty;
    }

    /// <summary>
    /// Gets the root the chain starts at, or <see langword="null"/> when the object was alive in the heap but no root
    /// the explainer could inspect reaches it (most often a local variable of a running method whose frame the stack
    /// walk missed).
    /// </summary>
    public string? Root { get; }

    /// <summary>Gets the references from the root to the object, each as <c>Type.field</c> or <c>Type[index]</c>.</summary>
    public IReadOnlyList<string> References { get; }

    /// <summary>Gets the display name of the object's type (the end of the chain).</summary>
    public string Target { get; }

    /// <summary>
    /// Gets the trace with what differs between objects held the same way left out (array indexes, thread ids of stack
    /// roots), as the explainer's heap engine computes it: traces with equal signatures are one leak, and
    /// <see cref="LeakWatcher.AnalyzeAsync"/> groups by it. <see langword="null"/> when the explainer gives none: the
    /// watcher then groups by the whole trace.
    /// </summary>
    public string? Signature { get; init; }

    /// <summary>
    /// Gets the bytes this object keeps alive: its own size plus that of every object reachable from it that no root
    /// reaches any other way; <see langword="null"/> when the explainer did not compute it.
    /// </summary>
    public long? RetainedBytes { get; init; }

    /// <summary>
    /// Gets the trace of an object that was alive in the heap but that no inspected root reaches: its
    /// <see cref="Root"/> is <see langword="null"/>, its <see cref="Target"/> empty (the watcher names the type).
    /// </summary>
    public static RetentionTrace Unreached { get; } = new();

    /// <summary>Renders the trace one step per line: the root, each reference, then the object.</summary>
    /// <returns>The trace as text.</returns>
    public override string ToString() => string.Join('\n', LeakSignature.Lines(Root, References, Target));
}
