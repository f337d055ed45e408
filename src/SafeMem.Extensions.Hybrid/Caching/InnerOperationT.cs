namespace SafeMem.Extensions.Caching;

/// <summary>
/// An <see cref="InnerOperation"/> that calls <c>start(state)</c> on a runner thread and completes <see cref="Task"/>
/// as the task that call returns completes. For operations without a result, <typeparamref name="TResult"/> is
/// <see cref="bool"/> and the result is ignored.
/// </summary>
/// <remarks>
/// <para>The caller's <see cref="ExecutionContext"/> is captured when the operation is created and the inner call runs
/// in it, as it would have on the caller's thread (AsyncLocal values, the current Activity of a trace).</para>
/// <para>Continuations never run on a runner thread: an inner call that completes synchronously there (a client that
/// blocked and then returned a finished task, or an in-memory cache) completes <see cref="Task"/> from the thread
/// pool, since what follows is the caller's code (HybridCache's, the application's factory), which must not occupy
/// a thread reserved for starting inner calls. An inner call that completes later, on the client's I/O thread,
/// completes <see cref="Task"/> inline there, as awaiting the client's task directly would.</para>
/// </remarks>
internal sealed class InnerOperation<TState, TResult> : InnerOperation
{
    private static readonly ContextCallback s_startInContext = static self => ((InnerOperation<TState, TResult>)self!).StartCore();
    private static readonly Action<object?> s_completeOnPool = static self =>
    {
        var operation = (InnerOperation<TState, TResult>)self!;
        operation.Complete(operation._inner!);
    };

    private static readonly Action<Task, object?> s_complete = static (inner, self) =>
    {
        var operation = (InnerOperation<TState, TResult>)self!;
        if (InnerOperationRunner.IsRunnerThread)
        {
            // Completed synchronously (or just as the continuation was registered): we are on the runner thread.
            operation._inner = inner;
            ThreadPool.UnsafeQueueUserWorkItem(s_completeOnPool, operation, preferLocal: false);
        }
        else
        {
            operation.Complete(inner);
        }
    };

    private readonly TaskCompletionSource<TResult> _completion = new();
    private readonly Func<TState, Task> _start;
    private readonly TState _state;
    private readonly ExecutionContext? _context = ExecutionContext.Capture();
    private Task? _inner;

    public InnerOperation(Func<TState, Task> start, TState state)
    {
        _start = start;
        _state = state;
    }

    /// <summary>Completes as the inner call's task does; cancelled if the operation was abandoned before it started.</summary>
    public Task<TResult> Task => _completion.Task;

    protected override void Start()
    {
        if (_context is null)
        {
            StartCore();
        }
        else
        {
            ExecutionContext.Run(_context, s_startInContext, this);
        }
    }

    protected override void SetAbandoned() => _completion.TrySetCanceled();

    private void StartCore()
    {
        Task inner;
        try
        {
            inner = _start(_state);
        }
        catch (Exception exception)
        {
            // A client that throws instead of returning a faulted task: the same failure, reported the same way.
            inner = System.Threading.Tasks.Task.FromException(exception);
        }

        inner.ContinueWith(s_complete, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Complete(Task inner)
    {
        // The slot is freed before the caller hears of it, so a caller that retries at once finds it free.
        Runner!.Exit();
        if (inner.IsFaulted)
        {
            _completion.TrySetException(inner.Exception!.InnerExceptions);
        }
        else if (inner.IsCanceled)
        {
            _completion.TrySetCanceled(CancellationOf(inner));
        }
        else
        {
            _completion.TrySetResult(inner is Task<TResult> typed ? typed.Result : default!);
        }
    }

    private static CancellationToken CancellationOf(Task canceled)
    {
        try
        {
            canceled.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException exception)
        {
            return exception.CancellationToken;
        }

        return CancellationToken.None;
    }
}
