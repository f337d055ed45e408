namespace SafeMem.Diagnostics;

/// <summary>
/// The contract between <see cref="LeakWatcher"/> and a package that can say what keeps objects alive: given weak GC
/// handles to the retained objects, it walks a heap (a dump the process writes of itself) and returns, for each object,
/// the shortest chain of references from a GC root.
/// </summary>
/// <remarks>
/// <para>
/// The core <c>SafeMem</c> package only detects retained objects; explaining them needs a heap reader, which is heavy
/// (ClrMD, the diagnostics client) and lives in <c>SafeMem.Diagnostics.Heap</c>. The watcher finds that package's
/// explainer by name when the application references it, or takes one from <see cref="LeakWatcherOptions.Explainer"/>.
/// </para>
/// <para>
/// <b>What an implementation must do.</b> Hold nothing of the process's objects (it receives handles, never the
/// objects, so that it cannot itself become their root); treat the handles as valid only until its task completes;
/// return a <see cref="LeakExplanation"/> whose <see cref="LeakExplanation.Traces"/> has one entry per handle, in
/// order; report a heap it cannot read (no permission to dump, no disk space, a read-only directory) as
/// <see cref="LeakExplanation.UnavailableReason"/> rather than by throwing; observe the cancellation token between its
/// steps. The watcher calls it from a thread-pool thread, one analysis at a time per watcher; an implementation used by
/// several watchers must be thread-safe. An exception it throws anyway is caught by the watcher and reported in the
/// analysis (<see cref="LeakAnalysis.UnavailableReason"/>); it never reaches the application's threads.
/// </para>
/// </remarks>
public interface ILeakExplainer
{
    /// <summary>Explains why the objects behind the request's weak handles are alive.</summary>
    /// <param name="request">The weak GC handles of the objects to explain, and where to write a dump.</param>
    /// <param name="cancellationToken">Cancels the explanation (the watcher was disposed, or the caller gave up).</param>
    /// <returns>One trace per handle, in the request's order, with notes on what could not be inspected.</returns>
    Task<LeakExplanation> ExplainAsync(LeakExplanationRequest request, CancellationToken cancellationToken);
}
