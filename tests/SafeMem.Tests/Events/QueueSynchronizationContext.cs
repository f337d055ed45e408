namespace SafeMem.Tests.Events;

/// <summary>A synchronization context that queues posted work until the test pumps it, like a UI thread's queue.</summary>
public sealed class QueueSynchronizationContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();

    public int Pending
    {
        get
        {
            lock (_queue)
            {
                return _queue.Count;
            }
        }
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_queue)
        {
            _queue.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => RunWithin(() => d(state));

    /// <summary>Runs <paramref name="action"/> with this context current, then restores the previous one.</summary>
    public void RunWithin(Action action)
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        try
        {
            action();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>Runs queued work (and work it queues) with this context current until the queue is empty.</summary>
    public void RunPending()
    {
        while (TryDequeue(out (SendOrPostCallback Callback, object? State) item))
        {
            RunWithin(() => item.Callback(item.State));
        }
    }

    private bool TryDequeue(out (SendOrPostCallback, object?) item)
    {
        lock (_queue)
        {
            return _queue.TryDequeue(out item);
        }
    }
}

/// <summary>Records the synchronization context a handler ran on.</summary>
public sealed class ContextRecorder
{
    public int Calls { get; private set; }

    public SynchronizationContext? ContextSeen { get; private set; }

    public bool Throw { get; set; }

    public void Handle(object? sender, PriceChangedEventArgs e)
    {
        Calls++;
        ContextSeen = SynchronizationContext.Current;
        if (Throw)
        {
            throw new InvalidOperationException("posted handler failed");
        }
    }

    public async Task HandleAsync(object? sender, PriceChangedEventArgs e)
    {
        Handle(sender, e);
        await Task.Yield();
        ContextSeen = SynchronizationContext.Current;
    }
}
