using System.Collections.Concurrent;

namespace SafeMem.Tests.Events.Mvvm;

/// <summary>
/// A UI thread as WPF, WinUI or MAUI run one: a dedicated thread that owns a <see cref="SynchronizationContext"/>
/// and executes what is posted to it, one item at a time, in order.
/// </summary>
public sealed class UiDispatcherThread : IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    private readonly Thread _thread;

    public UiDispatcherThread()
    {
        Context = new DispatcherContext(this);
        _thread = new Thread(Run) { IsBackground = true, Name = "ui" };
        _thread.Start();
    }

    public SynchronizationContext Context { get; }

    public int ManagedThreadId => _thread.ManagedThreadId;

    /// <summary>Runs <paramref name="function"/> on the UI thread and returns its result (as Dispatcher.Invoke does).</summary>
    public T Invoke<T>(Func<T> function)
    {
        using var done = new ManualResetEventSlim();
        T result = default!;
        Exception? failure = null;
        Context.Post(
            _ =>
            {
                try
                {
                    result = function();
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
                finally
                {
                    done.Set();
                }
            },
            null);
        if (!done.Wait(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("The UI thread did not run the work item.");
        }

        return failure is null ? result : throw new InvalidOperationException("The work item threw on the UI thread.", failure);
    }

    /// <summary>Waits until everything posted so far has run.</summary>
    public void Drain() => Invoke(static () => 0);

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
        _queue.Dispose();
    }

    private void Run()
    {
        SynchronizationContext.SetSynchronizationContext(Context);
        foreach ((SendOrPostCallback callback, object? state) in _queue.GetConsumingEnumerable())
        {
            callback(state);
        }
    }

    private sealed class DispatcherContext(UiDispatcherThread owner) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => owner._queue.Add((d, state));

        public override void Send(SendOrPostCallback d, object? state)
        {
            if (Environment.CurrentManagedThreadId == owner.ManagedThreadId)
            {
                d(state);
                return;
            }

            owner.Invoke(() =>
            {
                d(state);
                return 0;
            });
        }

        public override SynchronizationContext CreateCopy() => this;
    }
}
