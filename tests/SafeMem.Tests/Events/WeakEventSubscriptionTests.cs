using System.Collections.ObjectModel;
using System.Collections.Specialized;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Windows.Input;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

public sealed class WeakEventSubscriptionTests
{
    [Fact]
    public void Subscribe_PlainEvent_SubscriberCollectedWhilePublisherLives()
    {
        var publisher = new PlainPublisher();
        WeakReference subscriber = SubscribeWeakly(publisher);

        GcAssert.Collected(subscriber);
        GC.KeepAlive(publisher);
    }

    [Fact]
    public void PlainSubscription_SameScenario_KeepsSubscriberAlive()
    {
        // Control: subscribing the handler directly leaks the subscriber.
        var publisher = new PlainPublisher();
        WeakReference subscriber = SubscribeStrongly(publisher);

        GcAssert.Alive(subscriber);
        GC.KeepAlive(publisher);
    }

    [Fact]
    public void Subscribe_SubscriberAlive_ForwardsEveryRaise()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        IDisposable subscription = WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            static (p, h) => p.PriceChanged -= h,
            static (s, sender, e) => s.OnPriceChanged(sender, e));

        GcAssert.FullCollect();
        publisher.Raise(1m);
        publisher.Raise(2m);

        Assert.Equal(2, subscriber.Received);
        Assert.Equal(2m, subscriber.LastPrice);
        GC.KeepAlive(subscription);
    }

    [Fact]
    public void Raise_AfterSubscriberCollected_ForwarderDetachesItselfOnce()
    {
        var publisher = new PlainPublisher();
        var removes = new StrongBox<int>();
        WeakReference subscriber = SubscribeCountingRemoves(publisher, removes);
        GcAssert.Collected(subscriber);

        publisher.Raise(1m);

        // The raise detaches the orphan unless the sweep (queued by the collections above) won the race and is
        // detaching it on the thread pool: either way the handler leaves the source's list, and removeHandler runs
        // exactly once.
        Assert.True(SpinWait.SpinUntil(() => publisher.HandlerCount == 0, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, Volatile.Read(ref removes.Value));
    }

    [Fact]
    public void FullCollection_WithoutRaise_SweepDetachesForwarder()
    {
        var publisher = new PlainPublisher();
        WeakReference subscriber = SubscribeWeakly(publisher);
        GcAssert.Collected(subscriber);

        bool detached = SpinWait.SpinUntil(
            () =>
            {
                GcAssert.FullCollect();
                return publisher.HandlerCount == 0;
            },
            TimeSpan.FromSeconds(10));

        Assert.True(detached, "The sweep after full collections did not detach the orphaned forwarder.");
    }

    [Fact]
    public void Dispose_Twice_UnsubscribesOnce()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        int removes = 0;
        IDisposable subscription = WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            (p, h) =>
            {
                removes++;
                p.PriceChanged -= h;
            },
            static (s, sender, e) => s.OnPriceChanged(sender, e));

        subscription.Dispose();
        subscription.Dispose();
        publisher.Raise(1m);

        Assert.Equal(1, removes);
        Assert.Equal(0, publisher.HandlerCount);
        Assert.Equal(0, subscriber.Received);
    }

    [Fact]
    public void Subscribe_AddHandlerThrows_ExceptionPropagatesAndNothingIsRegistered()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        int removes = 0;

        Assert.Throws<InvalidOperationException>(() => WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (_, _) => throw new InvalidOperationException("cannot subscribe"),
            (_, _) => removes++,
            static (s, sender, e) => s.OnPriceChanged(sender, e)));

        Assert.Equal(0, publisher.HandlerCount);
        Assert.Equal(0, removes);
    }

    [Fact]
    public void Subscribe_HandlerCapturesSubscriber_ThrowsArgumentException()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();

        ArgumentException ex = Assert.Throws<ArgumentException>(() => WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            static (p, h) => p.PriceChanged -= h,
            (_, sender, e) => subscriber.OnPriceChanged(sender, e)));

        Assert.Equal("handler", ex.ParamName);
        Assert.Equal(0, publisher.HandlerCount);
    }

    [Fact]
    public void Subscribe_NullArguments_ThrowArgumentNullException()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        Action<PlainPublisher, EventHandler<PriceChangedEventArgs>> add = static (p, h) => p.PriceChanged += h;
        Action<PlainPublisher, EventHandler<PriceChangedEventArgs>> remove = static (p, h) => p.PriceChanged -= h;
        Action<PriceSubscriber, object?, PriceChangedEventArgs> handler = static (s, sender, e) => s.OnPriceChanged(sender, e);

        Assert.Throws<ArgumentNullException>("source", () => WeakEventSubscription.Subscribe(null!, subscriber, add, remove, handler));
        Assert.Throws<ArgumentNullException>("subscriber", () => WeakEventSubscription.Subscribe(publisher, (PriceSubscriber)null!, add, remove, handler));
        Assert.Throws<ArgumentNullException>("addHandler", () => WeakEventSubscription.Subscribe(publisher, subscriber, null!, remove, handler));
        Assert.Throws<ArgumentNullException>("removeHandler", () => WeakEventSubscription.Subscribe(publisher, subscriber, add, null!, handler));
        Assert.Throws<ArgumentNullException>("handler", () => WeakEventSubscription.Subscribe(publisher, subscriber, add, remove, (Action<PriceSubscriber, object?, PriceChangedEventArgs>)null!));
        Assert.Throws<ArgumentNullException>("source", () => WeakEventSubscription.SubscribePropertyChanged<PriceSubscriber>(null!, subscriber, static (_, _, _) => { }));
        Assert.Equal(0, publisher.HandlerCount);
    }

    [Fact]
    public void SubscribePropertyChanged_ForwardsAndDisposeRemovesTheHandler()
    {
        var model = new Model();
        var subscriber = new ChangeCounter();
        IDisposable subscription = WeakEventSubscription.SubscribePropertyChanged(model, subscriber, static (s, _, e) => s.Names.Add(e.PropertyName));

        model.Name = "a";
        subscription.Dispose();
        model.Name = "b";

        Assert.Equal([nameof(Model.Name)], subscriber.Names);
        Assert.Equal(0, model.HandlerCount);
    }

    [Fact]
    public void SubscribePropertyChanged_SubscriberCollected_ModelDoesNotKeepIt()
    {
        var model = new Model();
        WeakReference subscriber = SubscribeToModel(model);

        GcAssert.Collected(subscriber);
        model.Name = "x";

        // The raise detaches the orphaned forwarder, unless the sweep that the collection above queued got there first
        // and is still calling the remove callback on its own thread: then the raise leaves the work to it.
        Assert.True(SpinWait.SpinUntil(() => model.HandlerCount == 0, TimeSpan.FromSeconds(10)), $"{model.HandlerCount} handlers left.");
    }

    [Fact]
    public void SubscribeCollectionChanged_ForwardsAndDisposeRemovesTheHandler()
    {
        var collection = new ObservableCollection<int>();
        var subscriber = new ChangeCounter();
        IDisposable subscription = WeakEventSubscription.SubscribeCollectionChanged(collection, subscriber, static (s, _, e) => s.Actions.Add(e.Action));

        collection.Add(1);
        subscription.Dispose();
        collection.Add(2);

        Assert.Equal([NotifyCollectionChangedAction.Add], subscriber.Actions);
    }

    [Fact]
    public void SubscribeCanExecuteChanged_ForwardsAndDisposeRemovesTheHandler()
    {
        var command = new Command();
        var subscriber = new ChangeCounter();
        IDisposable subscription = WeakEventSubscription.SubscribeCanExecuteChanged(command, subscriber, static (s, _, _) => s.CanExecuteChanges++);

        command.RaiseCanExecuteChanged();
        subscription.Dispose();
        command.RaiseCanExecuteChanged();

        Assert.Equal(1, subscriber.CanExecuteChanges);
        Assert.Equal(0, command.HandlerCount);
    }

    [Fact]
    public void Subscribe_StaticEvent_ForwardsAndDetaches()
    {
        var subscriber = new PriceSubscriber();
        IDisposable subscription = WeakEventSubscription.Subscribe<PriceSubscriber, PriceChangedEventArgs>(
            subscriber,
            static h => StaticPublisher.PriceChanged += h,
            static h => StaticPublisher.PriceChanged -= h,
            static (s, sender, e) => s.OnPriceChanged(sender, e));

        StaticPublisher.Raise(3m);
        subscription.Dispose();
        StaticPublisher.Raise(4m);

        Assert.Equal(1, subscriber.Received);
        Assert.Equal(3m, subscriber.LastPrice);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeWeakly(PlainPublisher publisher)
    {
        var subscriber = new PriceSubscriber();
        WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            static (p, h) => p.PriceChanged -= h,
            static (s, sender, e) => s.OnPriceChanged(sender, e));
        publisher.Raise(1m);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeCountingRemoves(PlainPublisher publisher, StrongBox<int> removes)
    {
        var subscriber = new PriceSubscriber();
        WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            (p, h) =>
            {
                Interlocked.Increment(ref removes.Value);
                p.PriceChanged -= h;
            },
            static (s, sender, e) => s.OnPriceChanged(sender, e));
        publisher.Raise(1m);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeStrongly(PlainPublisher publisher)
    {
        var subscriber = new PriceSubscriber();
        publisher.PriceChanged += subscriber.OnPriceChanged;
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeToModel(Model model)
    {
        var subscriber = new ChangeCounter();
        WeakEventSubscription.SubscribePropertyChanged(model, subscriber, static (s, _, e) => s.Names.Add(e.PropertyName));
        model.Name = "first";
        Assert.Single(subscriber.Names);
        return new WeakReference(subscriber);
    }

    private static class StaticPublisher
    {
        public static event EventHandler<PriceChangedEventArgs>? PriceChanged;

        public static void Raise(decimal price) => PriceChanged?.Invoke(null, new PriceChangedEventArgs(price));
    }

    private sealed class ChangeCounter
    {
        public List<string?> Names { get; } = [];

        public List<NotifyCollectionChangedAction> Actions { get; } = [];

        public int CanExecuteChanges { get; set; }
    }

    private sealed class Model : INotifyPropertyChanged
    {
        private string _name = string.Empty;

        public event PropertyChangedEventHandler? PropertyChanged;

        public int HandlerCount => PropertyChanged?.GetInvocationList().Length ?? 0;

        public string Name
        {
            get => _name;
            set
            {
                _name = value;
                PropertyChanged?.Invoke(this, new PropertyChangedEventArgs(nameof(Name)));
            }
        }
    }

    private sealed class Command : ICommand
    {
        public event EventHandler? CanExecuteChanged;

        public int HandlerCount => CanExecuteChanged?.GetInvocationList().Length ?? 0;

        public bool CanExecute(object? parameter) => true;

        public void Execute(object? parameter)
        {
        }

        public void RaiseCanExecuteChanged() => CanExecuteChanged?.Invoke(this, EventArgs.Empty);
    }
}
