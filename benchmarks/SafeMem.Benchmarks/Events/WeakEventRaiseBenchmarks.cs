using BenchmarkDotNet.Attributes;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// One raise with 1, 10 and 100 subscribers: <see cref="WeakEventSource{TEventArgs}"/>,
/// <see cref="AsyncWeakEventSource{TEventArgs}"/> and <see cref="WeakEventSubscription"/> forwarders against a plain
/// event (the baseline) and CommunityToolkit's <see cref="WeakReferenceMessenger"/> sending to as many recipients.
/// Targets: no allocation; at most half the messenger's send.
/// </summary>
[MemoryDiagnoser]
public class WeakEventRaiseBenchmarks
{
    private readonly List<BenchmarkSubscriber> _subscribers = [];
    private readonly List<IDisposable> _tokens = [];
    private readonly BenchmarkEventArgs _args = new(1);
    private PlainEventPublisher _plain = null!;
    private PlainEventPublisher _forwarded = null!;
    private WeakEventSource<BenchmarkEventArgs> _weak = null!;
    private AsyncWeakEventSource<BenchmarkEventArgs> _async = null!;
    private WeakReferenceMessenger _messenger = null!;

    [Params(1, 10, 100)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _plain = new PlainEventPublisher();
        _forwarded = new PlainEventPublisher();
        _weak = new WeakEventSource<BenchmarkEventArgs>("benchmark");
        _async = new AsyncWeakEventSource<BenchmarkEventArgs>("benchmark");
        _messenger = new WeakReferenceMessenger();
        foreach (BenchmarkSubscriber subscriber in BenchmarkSubscriber.Create(Subscribers, _subscribers))
        {
            _plain.Changed += subscriber.OnChanged;
            _weak.Add(subscriber.OnChanged);
            _async.Add(subscriber.OnChangedAsync);
            _tokens.Add(Subscribing.SubscribeWeakly(_forwarded, subscriber));
            Subscribing.Register(_messenger, subscriber);
        }
    }

    [Benchmark(Baseline = true)]
    public void PlainEvent() => _plain.Raise(_args);

    [Benchmark]
    public void WeakEventSource() => _weak.Raise(this, _args);

    [Benchmark]
    public void AsyncWeakEventSource() => _async.RaiseAsync(this, _args).GetAwaiter().GetResult();

    [Benchmark]
    public void WeakEventSubscription() => _forwarded.Raise(_args);

    [Benchmark]
    public BenchmarkEventArgs Messenger() => _messenger.Send(_args);
}
