using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>A subscriber whose handler does the least a real one does: read the event data and count.</summary>
public sealed class BenchmarkSubscriber
{
    public long Total;

    public void OnChanged(object? sender, BenchmarkEventArgs e) => Total += e.Value;

    public Task OnChangedAsync(object? sender, BenchmarkEventArgs e)
    {
        Total += e.Value;
        return Task.CompletedTask;
    }

    /// <summary>Creates <paramref name="count"/> subscribers, kept alive by <paramref name="keepAlive"/>.</summary>
    public static BenchmarkSubscriber[] Create(int count, List<BenchmarkSubscriber> keepAlive)
    {
        var subscribers = new BenchmarkSubscriber[count];
        for (int i = 0; i < count; i++)
        {
            subscribers[i] = new BenchmarkSubscriber();
            keepAlive.Add(subscribers[i]);
        }

        return subscribers;
    }

    /// <summary>One subscriber and its handler delegate per slot, created up front so no benchmark pays for them.</summary>
    public static EventHandler<BenchmarkEventArgs>[] CreateHandlers(int count, List<BenchmarkSubscriber> keepAlive)
        => Array.ConvertAll(Create(count, keepAlive), static s => new EventHandler<BenchmarkEventArgs>(s.OnChanged));

    /// <summary>The asynchronous handlers of the same subscribers.</summary>
    public static Func<object?, BenchmarkEventArgs, Task>[] CreateAsyncHandlers(BenchmarkSubscriber[] subscribers)
        => Array.ConvertAll(subscribers, static s => new Func<object?, BenchmarkEventArgs, Task>(s.OnChangedAsync));
}

/// <summary>Event data (and the messenger's message) for the events benchmarks.</summary>
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

/// <summary>The ways of subscribing that every events benchmark compares, written once.</summary>
public static class Subscribing
{
    /// <summary>Registers a recipient with the messenger as a UI app does: a static handler given the recipient.</summary>
    public static void Register(WeakReferenceMessenger messenger, BenchmarkSubscriber recipient)
        => messenger.Register<BenchmarkSubscriber, BenchmarkEventArgs>(recipient, static (r, m) => r.Total += m.Value);

    /// <summary>Subscribes through a forwarder on the plain event, the subscriber held weakly.</summary>
    public static IDisposable SubscribeWeakly(PlainEventPublisher publisher, BenchmarkSubscriber subscriber)
        => WeakEventSubscription.Subscribe<PlainEventPublisher, BenchmarkSubscriber, BenchmarkEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.Changed += h,
            static (p, h) => p.Changed -= h,
            static (s, _, e) => s.Total += e.Value);
}
