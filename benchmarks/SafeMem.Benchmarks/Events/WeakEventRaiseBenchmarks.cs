using BenchmarkDotNet.Attributes;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// One raise with 1, 10 and 100 subscribers: <see cref="WeakEventSource{TEventArgs}"/> against a plain event
/// (the baseline). Target: no allocation, and within 3x of the plain event per handler.
/// </summary>
[MemoryDiagnoser]
public class WeakEventRaiseBenchmarks
{
    private readonly List<BenchmarkSubscriber> _subscribers = [];
    private readonly BenchmarkEventArgs _args = new(1);
    private PlainEventPublisher _plain = null!;
    private WeakEventSource<BenchmarkEventArgs> _weak = null!;

    [Params(1, 10, 100)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _plain = new PlainEventPublisher();
        _weak = new WeakEventSource<BenchmarkEventArgs>("benchmark");
        foreach (EventHandler<BenchmarkEventArgs> handler in BenchmarkSubscriber.CreateHandlers(Subscribers, _subscribers))
        {
            _plain.Changed += handler;
            _weak.Add(handler);
        }
    }

    [Benchmark(Baseline = true)]
    public void PlainEvent() => _plain.Raise(_args);

    [Benchmark]
    public void WeakEventSource() => _weak.Raise(this, _args);
}
