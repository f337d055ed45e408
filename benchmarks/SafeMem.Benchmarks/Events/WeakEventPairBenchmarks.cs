using BenchmarkDotNet.Attributes;
using CommunityToolkit.Mvvm.Messaging;
using SafeMem.Events;

namespace SafeMem.Benchmarks.Events;

/// <summary>
/// One subscribe and its unsubscribe on a long-lived source with ten other subscribers, the pattern of a view model
/// that appears and goes: a plain event (the baseline), the weak sources, a <see cref="WeakEventSubscription"/> on a
/// plain event, and CommunityToolkit's <see cref="WeakReferenceMessenger"/> registering and unregistering a recipient.
/// </summary>
/// <remarks>
/// Unlike the 1,000-subscriber benchmarks, the source's size does not dominate here, so the rows compare what each
/// way of subscribing costs by itself (for <see cref="WeakEventSubscription"/>, on top of a plain event's own add and
/// remove).
/// </remarks>
[MemoryDiagnoser]
public class WeakEventPairBenchmarks
{
    private const int Others = 10;
    private readonly List<BenchmarkSubscriber> _keepAlive = [];
    private readonly PlainEventPublisher _plain = new();
    private readonly PlainEventPublisher _forwarded = new();
    private readonly WeakEventSource<BenchmarkEventArgs> _weak = new("pair");
    private readonly AsyncWeakEventSource<BenchmarkEventArgs> _async = new("pair");
    private readonly WeakReferenceMessenger _messenger = new();
    private BenchmarkSubscriber _subscriber = null!;
    private EventHandler<BenchmarkEventArgs> _handler = null!;
    private Func<object?, BenchmarkEventArgs, Task> _asyncHandler = null!;

    [GlobalSetup]
    public void Setup()
    {
        foreach (BenchmarkSubscriber other in BenchmarkSubscriber.Create(Others, _keepAlive))
        {
            _plain.Changed += other.OnChanged;
            _weak.Add(other.OnChanged);
            _async.Add(other.OnChangedAsync);
            _keepAlive.Add(other);
            Subscribing.SubscribeWeakly(_forwarded, other);
            Subscribing.Register(_messenger, other);
        }

        _subscriber = new BenchmarkSubscriber();
        _handler = _subscriber.OnChanged;
        _asyncHandler = _subscriber.OnChangedAsync;
    }

    [Benchmark(Baseline = true)]
    public void PlainEvent()
    {
        _plain.Changed += _handler;
        _plain.Changed -= _handler;
    }

    [Benchmark]
    public bool WeakEventSource()
    {
        _weak.Add(_handler);
        return _weak.Remove(_handler);
    }

    [Benchmark]
    public bool AsyncWeakEventSource()
    {
        _async.Add(_asyncHandler);
        return _async.Remove(_asyncHandler);
    }

    [Benchmark]
    public void WeakEventSubscription() => Subscribing.SubscribeWeakly(_forwarded, _subscriber).Dispose();

    [Benchmark]
    public void Messenger()
    {
        Subscribing.Register(_messenger, _subscriber);
        _messenger.Unregister<BenchmarkEventArgs>(_subscriber);
    }
}
