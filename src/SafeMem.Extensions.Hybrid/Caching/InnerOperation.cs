namespace SafeMem.Extensions.Caching;

/// <summary>
/// One asynchronous operation on the inner distributed cache, queued on an <see cref="InnerOperationRunner"/>: it is
/// started on a runner thread, or skipped there if its caller gave up first.
/// </summary>
/// <remarks>
/// States: queued, then started (by a runner thread) or abandoned (by the caller, on its timeout or cancellation).
/// The two are decided by one compare-and-swap, so an operation is either run or skipped, never both.
/// </remarks>
internal abstract class InnerOperation
{
    private const int Queued = 0;
    private const int Started = 1;
    private const int Abandoned = 2;

    private int _status;

    /// <summary>The runner it was queued on (set by <see cref="InnerOperationRunner.TryStart"/>).</summary>
    internal InnerOperationRunner? Runner { get; set; }

    /// <summary>
    /// The caller gave up. Returns true if the operation had not started: it never will, and its task is cancelled now
    /// (the inner cache never saw its buffers, so they may be released at once).
    /// </summary>
    public bool TryAbandon()
    {
        if (Interlocked.CompareExchange(ref _status, Abandoned, Queued) != Queued)
        {
            return false;
        }

        SetAbandoned();
        return true;
    }

    /// <summary>On a runner thread: starts the inner call, or only frees the slot of an operation abandoned while queued.</summary>
    internal void Run()
    {
        if (Interlocked.CompareExchange(ref _status, Started, Queued) != Queued)
        {
            Runner!.Exit();
            return;
        }

        Start();
    }

    protected abstract void Start();

    protected abstract void SetAbandoned();
}
