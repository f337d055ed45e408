using BenchmarkDotNet.Attributes;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// Unsubscribing: 1,000 distinct handlers added then removed oldest first (reported per add + remove pair; subtract
/// <see cref="WeakEventSubscribeBenchmarks"/> for the removal alone), against a plain event.
/// Target: O(1) amortized (a plain event searches and copies its invocation list on every remove, O(n)).
/// </summary>
[MemoryDiagnoser]
public class WeakEventUnsubscribeBenchmarks
{
    private const int Handlers = 1_000;
    private readonly List<BenchmarkSubscriber> _subscribers = [];
    private EventHandler<BenchmarkEventArgs>[] _handlers = null!;

    [GlobalSetup]
    public void Setup() => _handlers = BenchmarkSubscriber.CreateHandlers(Handlers, _subscribers);

    [Benchmark(Baseline = true, OperationsPerInvoke = Handlers)]
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

    [Benchmark(OperationsPerInvoke = Handlers)]
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
}
