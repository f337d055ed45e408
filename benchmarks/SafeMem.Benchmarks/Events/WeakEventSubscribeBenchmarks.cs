using BenchmarkDotNet.Attributes;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// Subscribing: 1,000 distinct subscribers added to a fresh source (reported per add), against a plain event (the
/// baseline) and CommunityToolkit's <see cref="WeakReferenceMessenger"/> registering as many recipients.
/// Targets: an add within 5x of a plain event's, no more bytes than a messenger registration.
/// </summary>
/// <remarks>
/// <see cref="WeakEventSubscription"/> subscribes to a plain event, so its row includes the plain event's own add
/// (which copies the invocation list, O(n)).
/// </remarks>
[MemoryDiagnoser]
public class WeakEventSubscribeBenchmarks
{
    private const int Handlers = 1_000;
    private readonly List<BenchmarkSubscriber> _keepAlive = [];
    private BenchmarkSubscriber[] _subscribers = null!;
    private EventHandler<BenchmarkEventArgs>[] _handlers = null!;
    private Func<object?, BenchmarkEventArgs, Task>[] _asyncHandlers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _subscribers = BenchmarkSubscriber.Create(Handlers, _keepAlive);
        _handlers = Array.ConvertAll(_subscribers, static s => new EventHandler<BenchmarkEventArgs>(s.OnChanged));
        _asyncHandlers = BenchmarkSubscriber.CreateAsyncHandlers(_subscribers);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Handlers)]
    public PlainEventPublisher PlainEvent()
    {
        var publisher = new PlainEventPublisher();
        foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
        {
            publisher.Changed += handler;
        }

        return publisher;
    }

    [Benchmark(OperationsPerInvoke = Handlers)]
    public WeakEventSource<BenchmarkEventArgs> WeakEventSource()
    {
        var source = new WeakEventSource<BenchmarkEventArgs>("benchmark");
        foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
        {
            source.Add(handler);
        }

        return source;
    }

    [Benchmark(OperationsPerInvoke = Handlers)]
    public AsyncWeakEventSource<BenchmarkEventArgs> AsyncWeakEventSource()
    {
        var source = new AsyncWeakEventSource<BenchmarkEventArgs>("benchmark");
        foreach (Func<object?, BenchmarkEventArgs, Task> handler in _asyncHandlers)
        {
            source.Add(handler);
        }

        return source;
    }

    [Benchmark(OperationsPerInvoke = Handlers)]
    public PlainEventPublisher WeakEventSubscription()
    {
        var publisher = new PlainEventPublisher();
        foreach (BenchmarkSubscriber subscriber in _subscribers)
        {
            Subscribing.SubscribeWeakly(publisher, subscriber);
        }

        return publisher;
    }

    [Benchmark(OperationsPerInvoke = Handlers)]
    public WeakReferenceMessenger Messenger()
    {
        var messenger = new WeakReferenceMessenger();
        foreach (BenchmarkSubscriber subscriber in _subscribers)
        {
            Subscribing.Register(messenger, subscriber);
        }

        return messenger;
    }
}
