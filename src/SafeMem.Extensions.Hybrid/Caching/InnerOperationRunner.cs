using System.Collections.Concurrent;

namespace SafeMem.Extensions.Caching;

/// <summary>
/// Starts the inner distributed cache's asynchronous operations on threads of its own, at most
/// <see cref="Limit"/> operations in flight, for one <see cref="ResilientDistributedCache"/>.
/// </summary>
/// <remarks>
/// <para><b>Why threads of its own.</b> A client may do slow synchronous work before it returns its task (connecting,
/// resolving a name, waiting on a lock). That work must hold neither the caller (the timeout could not bound it) nor a
/// thread-pool thread: a few hundred such calls started on the pool block its workers, and then the timeout's own
/// continuation, HybridCache's and everyone else's work wait for the pool to grow (about a thread per half second),
/// so the timeout stops bounding anything. Here a blocking client holds at most <see cref="MaximumThreads"/> threads
/// of this runner; the pool stays free, and callers are released by their timeout. No thread-pool feature isolates
/// work like this (a custom <see cref="TaskScheduler"/> would still need its own threads), hence this small runner.</para>
/// <para><b>The bound.</b> An operation is in flight from <see cref="TryStart"/> until the inner cache has finished it,
/// or until a runner thread found it abandoned before it started. At most <see cref="Limit"/> are: beyond that,
/// <see cref="TryStart"/> refuses at once. This bounds the queue in front of blocked threads, and the memory that
/// abandoned operations (still running in a frozen client) keep rented.</para>
/// <para><b>Threads</b> are started on demand, when an operation is queued and no runner thread is waiting for work,
/// up to <see cref="MaximumThreads"/>, and end after <see cref="IdleTimeout"/> without work, so an idle cache holds no
/// thread. They run only the inner call's synchronous part: continuations of an operation that completes on a runner
/// thread are moved to the thread pool (see <see cref="InnerOperation{TState, TResult}"/>).</para>
/// <para><b>What it holds.</b> Queued operations, strongly, until a runner thread takes them; a runner thread holds
/// this runner (never the cache that owns it) until it ends. Thread-safe: every member may be called concurrently.</para>
/// </remarks>
internal sealed class InnerOperationRunner
{
    /// <summary>How long a runner thread waits for work before it ends.</summary>
    internal static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    [ThreadStatic]
    private static bool t_isRunnerThread;

    private readonly ConcurrentQueue<InnerOperation> _queue = new();

    // One permit per queued operation (released after the enqueue), so a thread that takes a permit finds an operation.
    private readonly SemaphoreSlim _queued = new(0);
    private int _inFlight;
    private int _threads;
    private int _waiting;

    public InnerOperationRunner(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
    }

    /// <summary>
    /// The most runner threads: two per processor, at least 4 and at most 32. Each runs only the synchronous start of
    /// an inner call, microseconds for a well-behaved client, so a few serve a busy node; a blocking client holds them all.
    /// </summary>
    public static int MaximumThreads { get; } = Math.Clamp(2 * Environment.ProcessorCount, 4, 32);

    /// <summary>The most operations in flight.</summary>
    public int Limit { get; }

    /// <summary>Operations in flight now: queued, running in the inner cache, or abandoned and still running there.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Runner threads alive now (for tests).</summary>
    internal int Threads => Volatile.Read(ref _threads);

    /// <summary>Whether the current thread is one of a runner's (whose continuations must not run inline).</summary>
    internal static bool IsRunnerThread => t_isRunnerThread;

    /// <summary>Whether <see cref="Limit"/> operations are in flight: a hint, read without taking a slot.</summary>
    public bool IsFull => Volatile.Read(ref _inFlight) >= Limit;

    /// <summary>Queues <paramref name="operation"/>, or returns false at once when <see cref="Limit"/> operations are in flight.</summary>
    public bool TryStart(InnerOperation operation)
    {
        // A slot first: the bound counts what is queued as well as what runs, so the queue itself is bounded.
        if (Interlocked.Increment(ref _inFlight) > Limit)
        {
            Interlocked.Decrement(ref _inFlight);
            return false;
        }

        operation.Runner = this;
        _queue.Enqueue(operation);
        _queued.Release();

        // A waiting thread takes the permit; otherwise start one. Race with a thread that is timing out: it stops
        // counting itself as waiting before it leaves, then looks for permits again (RunThread), so either this reads
        // 0 and starts a thread, or that thread sees the permit and stays.
        if (Volatile.Read(ref _waiting) == 0)
        {
            TryStartThread();
        }

        return true;
    }

    /// <summary>Called once per operation when it leaves flight (finished in the inner cache, or skipped).</summary>
    internal void Exit() => Interlocked.Decrement(ref _inFlight);

    private void TryStartThread()
    {
        for (int threads = Volatile.Read(ref _threads); threads < MaximumThreads; threads = Volatile.Read(ref _threads))
        {
            if (Interlocked.CompareExchange(ref _threads, threads + 1, threads) == threads)
            {
                var thread = new Thread(static state => ((InnerOperationRunner)state!).RunThread())
                {
                    IsBackground = true,
                    Name = "SafeMem distributed-cache runner",
                };
                thread.UnsafeStart(this); // no ExecutionContext: each operation brings the caller's own
                return;
            }
        }
    }

    private void RunThread()
    {
        t_isRunnerThread = true;
        while (true)
        {
            Interlocked.Increment(ref _waiting);
            bool taken = _queued.Wait(IdleTimeout);
            Interlocked.Decrement(ref _waiting);
            if (!taken)
            {
                // Leave, unless an operation was queued after the wait timed out by a caller that saw this thread
                // waiting and so started none: then take the thread slot back (if no new thread took it) and serve it.
                Interlocked.Decrement(ref _threads);
                if (_queued.CurrentCount == 0 || !TryReclaimThreadSlot())
                {
                    return;
                }

                continue;
            }

            // The permit was released after the enqueue, so an operation is there.
            _queue.TryDequeue(out InnerOperation? operation);
            operation!.Run();
        }
    }

    private bool TryReclaimThreadSlot()
    {
        for (int threads = Volatile.Read(ref _threads); threads < MaximumThreads; threads = Volatile.Read(ref _threads))
        {
            if (Interlocked.CompareExchange(ref _threads, threads + 1, threads) == threads)
            {
                return true;
            }
        }

        return false;
    }
}
