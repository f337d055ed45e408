using BenchmarkDotNet.Attributes;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// Subscribing: 1,000 distinct handlers added to a fresh source (reported per add), against a plain event.
/// Target: O(1) amortized (a plain event copies its invocation list on every add, O(n)).
/// </summary>
[MemoryDiagnoser]
public class WeakEventSubscribeBenchmarks
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
}
