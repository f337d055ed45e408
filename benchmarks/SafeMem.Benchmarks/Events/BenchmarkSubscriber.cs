namespace SafeMem.Benchmarks.Events;

/// <summary>A subscriber whose handler does the least a real one does: read the event data and count.</summary>
public sealed class BenchmarkSubscriber
{
    public long Total;

    public void OnChanged(object? sender, BenchmarkEventArgs e) => Total += e.Value;

    /// <summary>One subscriber and its handler delegate per slot, created up front so no benchmark pays for them.</summary>
    public static EventHandler<BenchmarkEventArgs>[] CreateHandlers(int count, List<BenchmarkSubscriber> keepAlive)
    {
        var handlers = new EventHandler<BenchmarkEventArgs>[count];
        for (int i = 0; i < count; i++)
        {
            var subscriber = new BenchmarkSubscriber();
            keepAlive.Add(subscriber);
            handlers[i] = subscriber.OnChanged;
        }

        return handlers;
    }
}

/// <summary>Event data for the events benchmarks.</summary>
public sealed class BenchmarkEventArgs(long value) : EventArgs
{
    public long Value { get; } = value;
}

/// <summary>The baseline: a publisher with a plain .NET event.</summary>
public sealed class PlainEventPublisher
{
    public event EventHandler<BenchmarkEventArgs>? Changed;

    public void Raise(BenchmarkEventArgs e) => Changed?.Invoke(this, e);
}
