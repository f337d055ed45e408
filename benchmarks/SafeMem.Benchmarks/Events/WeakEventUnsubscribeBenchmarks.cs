using BenchmarkDotNet.Attributes;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// Unsubscribing alone: sources holding 1,000 distinct subscribers each are filled before every iteration, and the
/// iteration removes them all, oldest first (reported per removal), against a plain event (the baseline) and
/// CommunityToolkit's <see cref="WeakReferenceMessenger"/> unregistering as many recipients.
/// </summary>
/// <remarks>
/// Twenty sources per iteration, so an iteration lasts long enough to time with one invocation (the filling has to
/// happen outside the measurement). <see cref="WeakEventSubscription"/> disposes tokens of forwarders on a plain event,
/// so its row includes the plain event's own removal (a search and a copy, O(n)).
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1)]
public class WeakEventUnsubscribeBenchmarks
{
    private const int Handlers = 1_000;
    private const int Sources = 20;
    private const int Removals = Handlers * Sources;
    private readonly List<BenchmarkSubscriber> _keepAlive = [];
    private readonly PlainEventPublisher[] _plain = new PlainEventPublisher[Sources];
    private readonly WeakEventSource<BenchmarkEventArgs>[] _weak = new WeakEventSource<BenchmarkEventArgs>[Sources];
    private readonly AsyncWeakEventSource<BenchmarkEventArgs>[] _async = new AsyncWeakEventSource<BenchmarkEventArgs>[Sources];
    private readonly PlainEventPublisher[] _forwarded = new PlainEventPublisher[Sources];
    private readonly IDisposable[][] _tokens = new IDisposable[Sources][];
    private readonly WeakReferenceMessenger[] _messengers = new WeakReferenceMessenger[Sources];
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

    [IterationSetup(Target = nameof(PlainEvent))]
    public void FillPlain()
    {
        for (int s = 0; s < Sources; s++)
        {
            _plain[s] = new PlainEventPublisher();
            foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
            {
                _plain[s].Changed += handler;
            }
        }
    }

    [IterationSetup(Target = nameof(WeakEventSource))]
    public void FillWeak()
    {
        for (int s = 0; s < Sources; s++)
        {
            _weak[s] = new WeakEventSource<BenchmarkEventArgs>("benchmark");
            foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
            {
                _weak[s].Add(handler);
            }
        }
    }

    [IterationSetup(Target = nameof(AsyncWeakEventSource))]
    public void FillAsync()
    {
        for (int s = 0; s < Sources; s++)
        {
            _async[s] = new AsyncWeakEventSource<BenchmarkEventArgs>("benchmark");
            foreach (Func<object?, BenchmarkEventArgs, Task> handler in _asyncHandlers)
            {
                _async[s].Add(handler);
            }
        }
    }

    [IterationSetup(Target = nameof(WeakEventSubscription))]
    public void FillForwarders()
    {
        for (int s = 0; s < Sources; s++)
        {
            // Kept alive: the tokens hold their source weakly, and disposing a token of a collected source does nothing.
            PlainEventPublisher publisher = _forwarded[s] = new PlainEventPublisher();
            _tokens[s] = Array.ConvertAll(_subscribers, subscriber => Subscribing.SubscribeWeakly(publisher, subscriber));
        }
    }

    [IterationSetup(Target = nameof(Messenger))]
    public void FillMessengers()
    {
        for (int s = 0; s < Sources; s++)
        {
            _messengers[s] = new WeakReferenceMessenger();
            foreach (BenchmarkSubscriber subscriber in _subscribers)
            {
                Subscribing.Register(_messengers[s], subscriber);
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Removals)]
    public void PlainEvent()
    {
        foreach (PlainEventPublisher publisher in _plain)
        {
            foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
            {
                publisher.Changed -= handler;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Removals)]
    public void WeakEventSource()
    {
        foreach (WeakEventSource<BenchmarkEventArgs> source in _weak)
        {
            foreach (EventHandler<BenchmarkEventArgs> handler in _handlers)
            {
                source.Remove(handler);
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Removals)]
    public void AsyncWeakEventSource()
    {
        foreach (AsyncWeakEventSource<BenchmarkEventArgs> source in _async)
        {
            foreach (Func<object?, BenchmarkEventArgs, Task> handler in _asyncHandlers)
            {
                source.Remove(handler);
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Removals)]
    public void WeakEventSubscription()
    {
        foreach (IDisposable[] tokens in _tokens)
        {
            foreach (IDisposable token in tokens)
            {
                token.Dispose();
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Removals)]
    public void Messenger()
    {
        foreach (WeakReferenceMessenger messenger in _messengers)
        {
            foreach (BenchmarkSubscriber subscriber in _subscribers)
            {
                messenger.Unregister<BenchmarkEventArgs>(subscriber);
            }
        }
    }
}
