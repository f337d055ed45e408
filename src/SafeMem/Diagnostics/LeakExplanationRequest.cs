namespace SafeMem.Diagnostics;

/// <summary>What <see cref="LeakWatcher"/> asks an <see cref="ILeakExplainer"/> to explain.</summary>
/// <remarks>
/// Immutable. The handles are weak GC handles (<see cref="System.Runtime.InteropServices.GCHandle.ToIntPtr"/>) that the
/// watcher owns and keeps allocated until the explainer's task completes: an explainer finds each object in a dump by
/// its handle, as a weak handle cleared in the dump means the object died before the dump was written. Holding a
/// request keeps no object alive.
/// </remarks>
public sealed class LeakExplanationRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="weakHandles">The weak GC handles of the objects to explain.</param>
    /// <exception cref="ArgumentNullException"><paramref name="weakHandles"/> is null.</exception>
    public LeakExplanationRequest(IReadOnlyList<nint> weakHandles)
    {
        ArgumentNullException.ThrowIfNull(weakHandles);
        WeakHandles = weakHandles;
    }

    /// <summary>Gets the weak GC handles of the objects to explain (as <see cref="System.Runtime.InteropServices.GCHandle.ToIntPtr"/> gives them).</summary>
    public IReadOnlyList<nint> WeakHandles { get; }

    /// <summary>Gets the directory for a temporary dump, or <see langword="null"/> for the system's temporary directory.</summary>
    public string? DumpDirectory { get; init; }
}
