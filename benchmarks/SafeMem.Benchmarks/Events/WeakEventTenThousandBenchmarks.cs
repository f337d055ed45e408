using BenchmarkDotNet.Attributes;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// 10,000 subscribers added, then removed oldest first, as one operation, against a plain event.
/// Target: under 10 ms in total.
/// </summary>
[MemoryDiagnoser]
public class WeakEventTenThousandBenchmarks
{
    private const int Handlers = 10_000;
    private readonly List<BenchmarkSubscriber> _subscribers = [];
    private EventHandler<BenchmarkEventArgs>[] _handlers = null!;

    [GlobalSetup]
    public void Setup() => _handlers = BenchmarkSubscriber.CreateHandlers(Handlers, _subscribers);

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
}
