using BenchmarkDotNet.Attributes;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// 10,000 subscribers added to a fresh source, then removed oldest first, as one operation, against a plain event
/// (the baseline) and CommunityToolkit's <see cref="WeakReferenceMessenger"/> registering and unregistering as many
/// recipients. Targets: under 10 ms in total, and no slower than the messenger.
/// </summary>
[MemoryDiagnoser]
public class WeakEventTenThousandBenchmarks
{
    private const int Handlers = 10_000;
    private readonly List<BenchmarkSubscriber> _keepAlive = [];
    private BenchmarkSubscriber[] _subscribers = null!;
    private EventHandler<BenchmarkEventArgs>[] _handlers = null!;
    private Func<object?, BenchmarkEventArgs, Task>[] _asyncHandlers = null!;
    private IDisposable[] _tokens = null!;

    [GlobalSetup]
    public void Setup()
    {
        _subscribers = BenchmarkSubscriber.Create(Handlers, _keepAlive);
        _handlers = Array.ConvertAll(_subscribers, static s => new EventHandler<BenchmarkEventArgs>(s.OnChanged));
        _asyncHandlers = BenchmarkSubscriber.CreateAsyncHandlers(_subscribers);
        _tokens = new IDisposable[Handlers];
    }

    [Benchmark(Baseline = true)]
    public PlainEventPublisher PlainEvent()
    {
        var publisher = new PlainEventPublisher();
        foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
        {
            publisher.Changed += handler;
        }

        foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
        {
            publisher.Changed -= handler;
        }

        return publisher;
    }

    [Benchmark]
    public WeakEventSource<BenchmarkEventArgs> WeakEventSource()
    {
        var source = new WeakEventSource<BenchmarkEventArgs>("benchmark");
        foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
        {
            source.Add(handler);
        }

        foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
        {
            source.Remove(handler);
        }

        return source;
    }

    [Benchmark]
    public AsyncWeakEventSource<BenchmarkEventArgs> AsyncWeakEventSource()
    {
        var source = new AsyncWeakEventSource<BenchmarkEventArgs>("benchmark");
        foreach (Func<object?, BenchmarkEventArgs, Task> handler in _asyncHandlers)
        {
            source.Add(handler);
        }

        foreach (Func<object?, BenchmarkEventArgs, Task> handler in _asyncHandlers)
        {
            source.Remove(handler);
        }

        return source;
    }

    [Benchmark]
    public PlainEventPublisher WeakEventSubscription()
    {
        var publisher = new PlainEventPublisher();
        for (int i = 0; i < _subscribers.Length; i++)
        {
            _tokens[i] = Subscribing.SubscribeWeakly(publisher, _subscribers[i]);
        }

        foreach (IDisposable token in _tokens)
        {
            token.Dispose();
        }

        return publisher;
    }

    [Benchmark]
    public WeakReferenceMessenger Messenger()
    {
        var messenger = new WeakReferenceMessenger();
        foreach (BenchmarkSubscriber subscriber in _subscribers)
        {
            Subscribing.Register(messenger, subscriber);
        }

        foreach (BenchmarkSubscriber subscriber in _subscribers)
        {
            messenger.Unregister<BenchmarkEventArgs>(subscriber);
        }

        return messenger;
    }
}
