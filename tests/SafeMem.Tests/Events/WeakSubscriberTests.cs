using System.Runtime.CompilerServices;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

/// <summary>
/// <see cref="WeakEventSubscription"/> for events of any delegate type (through <see cref="WeakSubscriber{TSubscriber}"/>),
/// and for events that are themselves backed by a <see cref="WeakEventSource{TEventArgs}"/>.
/// </summary>
public sealed class WeakSubscriberTests
{
    // ---- Events of any delegate type ---------------------------------------------------------------------------

    [Fact]
    public void Subscribe_CustomDelegate_ForwardsEveryRaiseWhileSubscriberLives()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();
        IDisposable subscription = SubscribeBoard(feed, board);

        GcAssert.FullCollect();
        feed.Raise("ACME", 1m);
        feed.Raise("INIT", 2m);

        Assert.Equal([("ACME", 1m), ("INIT", 2m)], board.Quotes);
        Assert.Equal(1, feed.HandlerCount);
        GC.KeepAlive(subscription);
    }

    [Fact]
    public void Subscribe_CustomDelegate_SubscriberCollectedWhilePublisherLives()
    {
        var feed = new PriceFeed();
        WeakReference board = SubscribeWeakly(feed);

        GcAssert.Collected(board);
        GC.KeepAlive(feed);
    }

    [Fact]
    public void PlainSubscription_CustomDelegate_KeepsSubscriberAlive()
    {
        // Control: the same subscriber subscribed directly is kept alive by the feed.
        var feed = new PriceFeed();
        WeakReference board = SubscribeStrongly(feed);

        GcAssert.Alive(board);
        GC.KeepAlive(feed);
    }

    [Fact]
    public void Raise_CustomDelegateAfterSubscriberCollected_HandlerLeavesTheEventOnce()
    {
        var feed = new PriceFeed();
        var removes = new StrongBox<int>();
        WeakReference board = SubscribeCountingRemoves(feed, removes);
        GcAssert.Collected(board);

        feed.Raise("ACME", 1m);

        // The raise (reading Target as null) detaches, unless the sweep queued by the collections won: either way once.
        Assert.True(SpinWait.SpinUntil(() => feed.HandlerCount == 0, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, Volatile.Read(ref removes.Value));
    }

    [Fact]
    public void Dispose_CustomDelegate_RemovesTheHandlerAndTargetReadsNull()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();
        WeakSubscriber<PriceBoard>? weak = null;
        IDisposable subscription = WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            static (f, h) => f.PriceChanged -= h,
            w =>
            {
                weak = w;
                return (symbol, price) => w.Target?.OnPrice(symbol, price);
            });

        Assert.Same(weak, subscription);
        Assert.Same(board, weak!.Target);
        subscription.Dispose();
        subscription.Dispose();
        feed.Raise("ACME", 1m);

        Assert.Equal(0, feed.HandlerCount);
        Assert.Null(weak.Target);
        Assert.Empty(board.Quotes);
    }

    [Fact]
    public void Dispose_DuringARaiseInFlight_LaterInvocationsReachNothing()
    {
        // A raise iterates the invocation list it read at its start, so a disposed subscription's handler may still be
        // invoked by it; it must no longer reach the subscriber.
        var feed = new PriceFeed();
        var board = new PriceBoard();
        IDisposable? subscription = null;
        feed.PriceChanged += (_, _) => subscription!.Dispose();
        subscription = SubscribeBoard(feed, board);

        feed.Raise("ACME", 1m);

        Assert.Empty(board.Quotes);
        Assert.Equal(1, feed.HandlerCount);
    }

    [Fact]
    public void Subscribe_HandlerCapturesSubscriber_ThrowsAndNothingIsRegistered()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();

        ArgumentException ex = Assert.Throws<ArgumentException>(() => WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            static (f, h) => f.PriceChanged -= h,
            _ => (symbol, price) => board.OnPrice(symbol, price)));

        Assert.Equal("createHandler", ex.ParamName);
        Assert.Equal(0, feed.HandlerCount);
    }

    [Fact]
    public void Subscribe_HandlerIsTheSubscribersMethod_Throws()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();

        Assert.Throws<ArgumentException>("createHandler", () => WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            static (f, h) => f.PriceChanged -= h,
            _ => board.OnPrice));
        Assert.Equal(0, feed.HandlerCount);
    }

    [Fact]
    public void Subscribe_FactoryReturnsNullOrThrows_ThrowsAndNothingIsRegistered()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();
        int removes = 0;

        Assert.Throws<ArgumentException>("createHandler", () => WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            (f, h) => removes++,
            static _ => null!));
        Assert.Throws<InvalidOperationException>(() => WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            (f, h) => removes++,
            static _ => throw new InvalidOperationException("factory")));

        Assert.Equal(0, feed.HandlerCount);
        Assert.Equal(0, removes);
    }

    [Fact]
    public void Subscribe_AddHandlerThrows_ExceptionPropagatesAndRemoveNeverRuns()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();
        int removes = 0;

        Assert.Throws<InvalidOperationException>(() => WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (_, _) => throw new InvalidOperationException("cannot subscribe"),
            (_, _) => removes++,
            static w => (symbol, price) => w.Target?.OnPrice(symbol, price)));
        ForwarderSweeper.Sweep();

        Assert.Equal(0, removes);
        Assert.Equal(0, feed.HandlerCount);
    }

    [Fact]
    public void Subscribe_CustomDelegateNullArguments_ThrowArgumentNullException()
    {
        var feed = new PriceFeed();
        var board = new PriceBoard();
        Action<PriceFeed, PriceHandler> add = static (f, h) => f.PriceChanged += h;
        Action<PriceFeed, PriceHandler> remove = static (f, h) => f.PriceChanged -= h;
        Func<WeakSubscriber<PriceBoard>, PriceHandler> create = static w => (symbol, price) => w.Target?.OnPrice(symbol, price);

        Assert.Throws<ArgumentNullException>("source", () => WeakEventSubscription.Subscribe(null!, board, add, remove, create));
        Assert.Throws<ArgumentNullException>("subscriber", () => WeakEventSubscription.Subscribe(feed, (PriceBoard)null!, add, remove, create));
        Assert.Throws<ArgumentNullException>("addHandler", () => WeakEventSubscription.Subscribe(feed, board, null!, remove, create));
        Assert.Throws<ArgumentNullException>("removeHandler", () => WeakEventSubscription.Subscribe(feed, board, add, null!, create));
        Assert.Throws<ArgumentNullException>("createHandler", () => WeakEventSubscription.Subscribe(feed, board, add, remove, (Func<WeakSubscriber<PriceBoard>, PriceHandler>)null!));
        Assert.Throws<ArgumentNullException>("addHandler", () => WeakEventSubscription.Subscribe(board, (Action<PriceHandler>)null!, static h => { }, create));
        Assert.Equal(0, feed.HandlerCount);
    }

    [Fact]
    public void Subscribe_StaticCustomDelegateEvent_ForwardsThenLetsSubscriberGo()
    {
        int before = StaticFeed.HandlerCount;
        WeakReference board = SubscribeToStaticFeed();

        GcAssert.Collected(board);
        StaticFeed.Raise("ACME", 1m);

        Assert.True(SpinWait.SpinUntil(() => StaticFeed.HandlerCount == before, TimeSpan.FromSeconds(10)));
    }

    // ---- Events backed by a WeakEventSource (the fix for subscribers that only have +=) -------------------------

    [Fact]
    public void Subscribe_EventBackedByWeakEventSource_KeepsFiringAcrossCollectionsWhileSubscriberLives()
    {
        // The forwarder is the handler's target, and the source holds it only weakly: the subscription must not end
        // at the next collection just because the caller dropped the token.
        var publisher = new WeakBackedPublisher();
        var subscriber = new PriceSubscriber();
        SubscribeThroughAccessors(publisher, subscriber);

        GcAssert.FullCollect();
        GcAssert.FullCollect();
        publisher.Raise(1m);
        publisher.Raise(2m);

        Assert.Equal(2, subscriber.Received);
        Assert.Equal(1, publisher.HandlerCount);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void Subscribe_EventBackedByWeakEventSource_SubscriberCollectedThenTheSourceLetsGo()
    {
        var publisher = new WeakBackedPublisher();
        WeakReference subscriber = SubscribeThroughAccessorsAndForget(publisher);

        GcAssert.Collected(subscriber);

        // The sweep detaches the orphaned forwarder (or the raise below finds it dead), and the source then purges it.
        Assert.True(
            SpinWait.SpinUntil(
                () =>
                {
                    GcAssert.FullCollect();
                    publisher.Raise(1m);
                    return publisher.HandlerCount == 0;
                },
                TimeSpan.FromSeconds(10)),
            "The weak-backed publisher kept a subscription of a collected subscriber.");
    }

    [Fact]
    public void Subscribe_EventBackedByWeakEventSource_HandlerCapturingALocal_TheDocumentedFixWorks()
    {
        // What the ArgumentException for `publisher.PriceChanged += (s, e) => total += e.Price` tells a subscriber to do.
        var publisher = new WeakBackedPublisher();
        var owner = new object();
        var total = new StrongBox<decimal>();
        IDisposable subscription = WeakEventSubscription.Subscribe<WeakBackedPublisher, object, PriceChangedEventArgs>(
            publisher,
            owner,
            static (p, h) => p.PriceChanged += h,
            static (p, h) => p.PriceChanged -= h,
            (_, _, e) => total.Value += e.Price);

        GcAssert.FullCollect();
        publisher.Raise(2m);
        subscription.Dispose();
        publisher.Raise(3m);

        Assert.Equal(2m, total.Value);
        Assert.Equal(0, publisher.HandlerCount);
        GC.KeepAlive(owner);
    }

    [Fact]
    public void Subscribe_FactoryHandlerOnEventBackedByWeakEventSource_LivesAsLongAsTheSubscriber()
    {
        // The handler is a closure that captured the WeakSubscriber (no 'this'): the source ties it to the subscriber.
        var publisher = new WeakBackedPublisher();
        var subscriber = new PriceSubscriber();
        WeakReference collected = SubscribeFactoryHandlerAndForget(publisher);
        SubscribeFactoryHandler(publisher, subscriber);

        GcAssert.Collected(collected);
        GcAssert.FullCollect();
        publisher.Raise(1m);

        Assert.Equal(1, subscriber.Received);
        Assert.True(
            SpinWait.SpinUntil(
                () =>
                {
                    GcAssert.FullCollect();
                    return publisher.HandlerCount == 1;
                },
                TimeSpan.FromSeconds(10)),
            $"{publisher.HandlerCount} subscriptions; expected the collected subscriber's to be purged.");
        GC.KeepAlive(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SubscribeFactoryHandler(WeakBackedPublisher publisher, PriceSubscriber subscriber)
        => WeakEventSubscription.Subscribe<WeakBackedPublisher, PriceSubscriber, EventHandler<PriceChangedEventArgs>>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            static (p, h) => p.PriceChanged -= h,
            static weak => (sender, e) => weak.Target?.OnPriceChanged(sender, e));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeFactoryHandlerAndForget(WeakBackedPublisher publisher)
    {
        var subscriber = new PriceSubscriber();
        SubscribeFactoryHandler(publisher, subscriber);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IDisposable SubscribeBoard(PriceFeed feed, PriceBoard board)
        => WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            static (f, h) => f.PriceChanged -= h,
            static weak => (symbol, price) => weak.Target?.OnPrice(symbol, price));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeWeakly(PriceFeed feed)
    {
        var board = new PriceBoard();
        SubscribeBoard(feed, board);
        feed.Raise("ACME", 1m);
        Assert.Single(board.Quotes);
        return new WeakReference(board);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeStrongly(PriceFeed feed)
    {
        var board = new PriceBoard();
        feed.PriceChanged += board.OnPrice;
        return new WeakReference(board);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeCountingRemoves(PriceFeed feed, StrongBox<int> removes)
    {
        var board = new PriceBoard();
        WeakEventSubscription.Subscribe<PriceFeed, PriceBoard, PriceHandler>(
            feed,
            board,
            static (f, h) => f.PriceChanged += h,
            (f, h) =>
            {
                Interlocked.Increment(ref removes.Value);
                f.PriceChanged -= h;
            },
            static weak => (symbol, price) => weak.Target?.OnPrice(symbol, price));
        return new WeakReference(board);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeToStaticFeed()
    {
        var board = new PriceBoard();
        WeakEventSubscription.Subscribe<PriceBoard, PriceHandler>(
            board,
            static h => StaticFeed.PriceChanged += h,
            static h => StaticFeed.PriceChanged -= h,
            static weak => (symbol, price) => weak.Target?.OnPrice(symbol, price));
        StaticFeed.Raise("ACME", 1m);
        Assert.Single(board.Quotes);
        return new WeakReference(board);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SubscribeThroughAccessors(WeakBackedPublisher publisher, PriceSubscriber subscriber)
        => WeakEventSubscription.Subscribe<WeakBackedPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            static (p, h) => p.PriceChanged -= h,
            static (s, sender, e) => s.OnPriceChanged(sender, e));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeThroughAccessorsAndForget(WeakBackedPublisher publisher)
    {
        var subscriber = new PriceSubscriber();
        SubscribeThroughAccessors(publisher, subscriber);
        publisher.Raise(1m);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    private static class StaticFeed
    {
        public static event PriceHandler? PriceChanged;

        public static int HandlerCount => PriceChanged?.GetInvocationList().Length ?? 0;

        public static void Raise(string symbol, decimal price) => PriceChanged?.Invoke(symbol, price);
    }
}
