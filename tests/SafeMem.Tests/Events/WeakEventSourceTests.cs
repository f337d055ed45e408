using System.Runtime.CompilerServices;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

public sealed class WeakEventSourceTests
{
    private static readonly PriceChangedEventArgs s_args = new(42m);

    // ---- Weak semantics, each with a control -------------------------------------------------------------------

    [Fact]
    public void Add_InstanceMethodHandler_SubscriberCollectedWhilePublisherLives()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        WeakReference subscriber = SubscribeInstance(source);

        GcAssert.Collected(subscriber);
        Assert.Equal(0, source.Count);
        source.Raise(this, s_args);
    }

    [Fact]
    public void PlainEvent_InstanceMethodHandler_KeepsSubscriberAlive()
    {
        // Control: the same scenario with a plain event leaks, so the test above can fail.
        var publisher = new PlainPublisher();
        WeakReference subscriber = SubscribePlain(publisher);

        GcAssert.Alive(subscriber);
        Assert.Equal(1, publisher.HandlerCount);
        GC.KeepAlive(publisher);
    }

    [Fact]
    public void Add_WithOwner_HandlerCollectedWithOwner()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        (WeakReference owner, WeakReference closure) = SubscribeWithOwner(source);

        GcAssert.Collected(owner, closure);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Add_WithOwner_OwnerAlive_KeepsFiringAfterCollections()
    {
        // Control for the test above: while the owner lives the ownerless closure is kept (not lost at the next GC).
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var owner = new object();
        int calls = 0;
        AddOwned(source, owner, () => calls++);

        GcAssert.FullCollect();
        GcAssert.FullCollect();
        source.Raise(this, s_args);

        Assert.Equal(1, calls);
        Assert.Equal(1, source.Count);
        GC.KeepAlive(owner);
    }

    [Fact]
    public void Add_LambdaCapturingThis_SurvivesCollectionsWhileOwnerLivesAndKeepsFiring()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var subscriber = new PriceSubscriber();
        subscriber.SubscribeCapturingLambda(source);

        for (int i = 0; i < 3; i++)
        {
            GcAssert.FullCollect();
            source.Raise(this, new PriceChangedEventArgs(i));
        }

        Assert.Equal(3, subscriber.Received);
        Assert.Equal(2m, subscriber.LastPrice);
        Assert.Equal(1, source.Count);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void Add_LambdaCapturingThis_CollectedWithItsOwner()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        WeakReference subscriber = SubscribeCapturingLambda(source);

        GcAssert.Collected(subscriber);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Add_LambdaCapturingThisThroughParentClosure_FindsOwner()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var subscriber = new PriceSubscriber();
        subscriber.SubscribeNestedCapturingLambda(source);

        GcAssert.FullCollect();
        source.Raise(this, s_args);

        Assert.Equal(1, subscriber.Received);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void Add_ClosureWithoutOwner_ThrowsArgumentExceptionNamingAddOwner()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        int calls = 0;

        ArgumentException ex = Assert.Throws<ArgumentException>(() => source.Add((_, _) => calls++));

        Assert.Equal("handler", ex.ParamName);
        Assert.Contains("Add(owner, handler)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void AddThroughEventAccessor_ClosureWithoutOwner_MessageNamesFixesASubscriberCanApply()
    {
        // A subscriber of a publisher that moved its event to WeakEventSource has only +=: the message must not send
        // it to Add(owner, handler) alone.
        var publisher = new WeakBackedPublisher();
        decimal total = 0;

        ArgumentException ex = Assert.Throws<ArgumentException>(() => publisher.PriceChanged += (_, e) => total += e.Price);

        Assert.Contains("instance method", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'this'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("WeakEventSubscription.Subscribe(publisher, owner, add, remove, handler)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, publisher.HandlerCount);
    }

    [Fact]
    public void Add_MethodOfAStruct_ThrowsArgumentException()
    {
        // Regression (#14): the delegate's target is a box only the delegate references, so the subscription used to be
        // accepted and then silently lost at the next collection.
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var counter = new StructCounter();

        ArgumentException ex = Assert.Throws<ArgumentException>(() => source.Add(counter.OnPriceChanged));

        Assert.Equal("handler", ex.ParamName);
        Assert.Contains("struct", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Add_MethodOfAStructWrappedInAnotherDelegate_ThrowsArgumentException()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var counter = new StructCounter();
        EventHandler<PriceChangedEventArgs> inner = counter.OnPriceChanged;

        Assert.Throws<ArgumentException>("handler", () => source.Add(new EventHandler<PriceChangedEventArgs>(inner.Invoke)));
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Add_BoxedStructOwner_ThrowsArgumentException()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        object box = new StructCounter();

        ArgumentException ex = Assert.Throws<ArgumentException>(() => source.Add(box, static (_, _) => { }));

        Assert.Equal("owner", ex.ParamName);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Add_StaticMethodAndNonCapturingLambda_HeldUntilRemoved()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        int before = Volatile.Read(ref s_staticCalls);
        AddStatic(source);

        GcAssert.FullCollect();
        source.Raise(this, s_args);
        Assert.Equal(2, Volatile.Read(ref s_staticCalls) - before);

        Assert.True(source.Remove(StaticHandler));
        Assert.True(source.Remove(s_nonCapturingLambda));
        Assert.Equal(0, source.Count);
    }

    // ---- Removal --------------------------------------------------------------------------------------------

    [Fact]
    public void Remove_HandlerAddedTwice_RemovesNewestFirst()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var a = new Recorder("a", log);
        var b = new Recorder("b", log);
        source.Add(a.Handle);
        source.Add(b.Handle);
        source.Add(a.Handle);

        Assert.True(source.Remove(a.Handle));
        source.Raise(this, s_args);

        // The last "a" went: what is left is a, b in that order.
        Assert.Equal(["a", "b"], log);
        Assert.Equal(2, source.Count);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
    }

    [Fact]
    public void Remove_SameTargetSeveralMethodsAndStatics_RemovesExactlyTheMatchingOnes()
    {
        // Handlers of one target (and all static handlers of one delegate type) share an index key, so removal
        // walks a chain: this checks unlinking from its newest, middle and oldest positions.
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var recorder = new Recorder("r", log);
        var subscriber = new PriceSubscriber();
        int before = Volatile.Read(ref s_staticCalls);
        source.Add(recorder.Handle);
        source.Add(recorder.HandleOther);
        source.Add(StaticHandler);
        source.Add(recorder.Handle);
        source.Add(subscriber.OnPriceChanged);
        source.Add(s_nonCapturingLambda);

        Assert.True(source.Remove(recorder.HandleOther));
        Assert.True(source.Remove(recorder.Handle));
        Assert.True(source.Remove(StaticHandler));
        Assert.False(source.Remove(StaticHandler));
        source.Raise(this, s_args);

        Assert.Equal(["r"], log);
        Assert.Equal(1, subscriber.Received);
        Assert.Equal(1, Volatile.Read(ref s_staticCalls) - before);
        Assert.True(source.Remove(recorder.Handle));
        Assert.True(source.Remove(s_nonCapturingLambda));
        Assert.True(source.Remove(subscriber.OnPriceChanged));
        Assert.False(source.Remove(recorder.Handle));
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Remove_NotSubscribed_ReturnsFalseAndKeepsOthers()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var subscriber = new PriceSubscriber();
        var other = new PriceSubscriber();
        source.Add(subscriber.OnPriceChanged);

        Assert.False(source.Remove(other.OnPriceChanged));
        Assert.Equal(1, source.Count);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void Remove_ThroughEventAccessors_BehavesLikeAnEvent()
    {
        var publisher = new WeakPublisher();
        var subscriber = new PriceSubscriber();
        publisher.PriceChanged += subscriber.OnPriceChanged;
        publisher.OnPriceChanged(1m);
        publisher.PriceChanged -= subscriber.OnPriceChanged;
        publisher.OnPriceChanged(2m);

        Assert.Equal(1, subscriber.Received);
        Assert.Equal(1m, subscriber.LastPrice);
    }

    [Fact]
    public void AddRemove_MulticastDelegate_AddsAndRemovesEachPart()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var a = new Recorder("a", log);
        var b = new Recorder("b", log);
        EventHandler<PriceChangedEventArgs> both = a.Handle;
        both += b.Handle;

        source.Add(both);
        source.Raise(this, s_args);
        Assert.Equal(2, source.Count);
        Assert.True(source.Remove(both));

        Assert.Equal(["a", "b"], log);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Clear_RemovesEverySubscription()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var subscriber = new PriceSubscriber();
        source.Add(subscriber.OnPriceChanged);
        source.Add(StaticHandler);

        source.Clear();
        source.Raise(this, s_args);

        Assert.Equal(0, source.Count);
        Assert.Equal(0, subscriber.Received);
    }

    // ---- Raising: order, reentrancy, mutation during a raise ---------------------------------------------------

    [Fact]
    public void Raise_SeveralHandlers_InvokedInSubscriptionOrderWithSenderAndArgs()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var recorders = Enumerable.Range(0, 5).Select(i => new Recorder(i.ToString(System.Globalization.CultureInfo.InvariantCulture), log)).ToList();
        recorders.ForEach(r => source.Add(r.Handle));

        source.Raise(this, s_args);

        Assert.Equal(["0", "1", "2", "3", "4"], log);
        Assert.All(recorders, r => Assert.Same(this, r.LastSender));
    }

    [Fact]
    public void Raise_HandlerRemovesItself_OthersStillRunAndItIsNotInvokedAgain()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var a = new Recorder("a", log);
        var self = new Recorder("self", log);
        var c = new Recorder("c", log);
        self.OnHandle = () => source.Remove(self.Handle);
        source.Add(a.Handle);
        source.Add(self.Handle);
        source.Add(c.Handle);

        source.Raise(this, s_args);
        source.Raise(this, s_args);

        Assert.Equal(["a", "self", "c", "a", "c"], log);
        GC.KeepAlive(a);
        GC.KeepAlive(self);
        GC.KeepAlive(c);
    }

    [Fact]
    public void Raise_HandlerRemovesLaterHandler_RemovalTakesEffectAtOnce()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var a = new Recorder("a", log);
        var b = new Recorder("b", log);
        var c = new Recorder("c", log);
        a.OnHandle = () => source.Remove(b.Handle);
        source.Add(a.Handle);
        source.Add(b.Handle);
        source.Add(c.Handle);

        source.Raise(this, s_args);

        // Documented: a removal is seen by a raise in flight (b is not invoked), and nothing else is skipped.
        Assert.Equal(["a", "c"], log);
        Assert.Equal(2, source.Count);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }

    [Fact]
    public void Raise_HandlerAddsHandlers_NewOnesRunFromTheNextRaise()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var adder = new Recorder("adder", log);
        var added = new List<Recorder>();
        adder.OnHandle = () =>
        {
            // Enough adds to make the source grow and compact its array while this raise iterates the old one.
            for (int i = 0; i < 20; i++)
            {
                var recorder = new Recorder("new", log);
                added.Add(recorder);
                source.Add(recorder.Handle);
            }
        };
        var last = new Recorder("last", log);
        source.Add(adder.Handle);
        source.Add(last.Handle);

        source.Raise(this, s_args);
        Assert.Equal(["adder", "last"], log);

        log.Clear();
        adder.OnHandle = null;
        source.Raise(this, s_args);
        Assert.Equal(22, log.Count);
        Assert.Equal(22, source.Count);
        GC.KeepAlive(adder);
        GC.KeepAlive(last);
        GC.KeepAlive(added);
    }

    [Fact]
    public void Raise_ReentrantRaiseFromHandler_EveryHandlerRunsAtEachLevel()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var outer = new Recorder("outer", log);
        var other = new Recorder("other", log);
        int depth = 0;
        outer.OnHandle = () =>
        {
            if (depth++ == 0)
            {
                source.Raise(this, s_args);
            }
        };
        source.Add(outer.Handle);
        source.Add(other.Handle);

        source.Raise(this, s_args);

        Assert.Equal(["outer", "outer", "other", "other"], log);
        Assert.Equal(2, source.GetStatistics().Raises);
        GC.KeepAlive(outer);
        GC.KeepAlive(other);
    }

    // ---- Exceptions --------------------------------------------------------------------------------------------

    [Fact]
    public void Raise_OneHandlerThrows_OthersRunAndTheExceptionIsRethrownAsThrown()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var boom = new InvalidOperationException("boom");
        var thrower = new Recorder("thrower", log) { OnHandle = () => throw boom };
        var after = new Recorder("after", log);
        source.Add(thrower.Handle);
        source.Add(after.Handle);

        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => source.Raise(this, s_args));

        Assert.Same(boom, thrown);
        Assert.Contains(nameof(Recorder), thrown.StackTrace, StringComparison.Ordinal);
        Assert.Equal(["thrower", "after"], log);
        Assert.Equal(1, source.GetStatistics().HandlerFailures);
        Assert.Equal(2, source.Count);
        GC.KeepAlive(thrower);
        GC.KeepAlive(after);
    }

    [Fact]
    public void Raise_SeveralHandlersThrow_AggregateExceptionAfterAllRan()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var log = new List<string>();
        var first = new Recorder("first", log) { OnHandle = () => throw new InvalidOperationException("1") };
        var middle = new Recorder("middle", log);
        var second = new Recorder("second", log) { OnHandle = () => throw new ArgumentException("2") };
        source.Add(first.Handle);
        source.Add(middle.Handle);
        source.Add(second.Handle);

        AggregateException thrown = Assert.Throws<AggregateException>(() => source.Raise(this, s_args));

        Assert.Collection(
            thrown.InnerExceptions,
            e => Assert.IsType<InvalidOperationException>(e),
            e => Assert.IsType<ArgumentException>(e));
        Assert.Equal(["first", "middle", "second"], log);
        Assert.Equal(2, source.GetStatistics().HandlerFailures);
        Assert.Equal(3, source.Count);
        GC.KeepAlive(first);
        GC.KeepAlive(middle);
        GC.KeepAlive(second);
    }

    // ---- Purging and memory ------------------------------------------------------------------------------------

    [Fact]
    public void FullCollection_WithoutRaiseOrAdd_SweepPurgesCollectedSubscribers()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var survivor = new PriceSubscriber();
        source.Add(survivor.OnPriceChanged);
        WeakReference[] dead = [.. Enumerable.Range(0, 10).Select(_ => SubscribeInstance(source))];
        GcAssert.Collected(dead);

        // Collected is read without purging (unlike Count), so only the GC-driven sweep on the thread pool moves it.
        bool swept = SpinWait.SpinUntil(
            () =>
            {
                GcAssert.FullCollect();
                return source.List.Reclamations == 10;
            },
            TimeSpan.FromSeconds(10));

        Assert.True(swept, $"Expected the sweep to purge 10 subscriptions, saw {source.List.Reclamations}.");
        Assert.Equal(1, source.Count);
        GC.KeepAlive(survivor);
    }

    [Fact]
    public void Add_ManySubscribersThatDie_StorageStaysProportionalToLiveOnes()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        for (int round = 0; round < 10; round++)
        {
            SubscribeMany(source, 1_000);
            GcAssert.FullCollect();
        }

        var live = new PriceSubscriber();
        source.Add(live.OnPriceChanged);

        // 10,000 dead subscriptions added over time, with no raise: purges on add keep the array near the live count.
        Assert.True(source.List.Capacity <= 4_096, $"Capacity {source.List.Capacity} after 10,000 dead adds.");
        Assert.Equal(1, source.Count);
        Assert.True(source.GetStatistics().Reclamations >= 9_000);
        GC.KeepAlive(live);
    }

    [Fact]
    public void AddThenRemove_TenThousandSubscribers_FastAndShrinksBack()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        PriceSubscriber[] subscribers = [.. Enumerable.Range(0, 10_000).Select(_ => new PriceSubscriber())];
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();

        foreach (PriceSubscriber subscriber in subscribers)
        {
            source.Add(subscriber.OnPriceChanged);
        }

        Assert.Equal(10_000, source.Count);
        for (int i = 0; i < subscribers.Length; i += 2)
        {
            Assert.True(source.Remove(subscribers[i].OnPriceChanged));
        }

        for (int i = subscribers.Length - 1; i > 0; i -= 2)
        {
            Assert.True(source.Remove(subscribers[i].OnPriceChanged));
        }

        stopwatch.Stop();

        // A safety net against quadratic behaviour (10^8 steps), not a performance target (that is a benchmark).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"10,000 adds and removes took {stopwatch.Elapsed}.");
        Assert.Equal(0, source.Count);
        // The removal index lives in the same generation (one bucket per entry), so it shrinks with it.
        Assert.True(source.List.Capacity <= 8, $"Capacity {source.List.Capacity} after removing everything.");
    }

    [Fact]
    public void Raise_AfterSubscribersCollected_PurgesThem()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var survivor = new PriceSubscriber();
        source.Add(survivor.OnPriceChanged);
        WeakReference dead = SubscribeInstance(source);
        GcAssert.Collected(dead);

        source.Raise(this, s_args);

        Assert.True(source.List.Reclamations >= 1);
        Assert.Equal(2, survivor.Received);
    }

    // ---- Synchronization context ------------------------------------------------------------------------------

    [Fact]
    public void Raise_CaptureContext_HandlerDeliveredOnItsSubscriptionContext()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>(new WeakEventSourceOptions { Name = "ui", CaptureSynchronizationContext = true });
        var context = new QueueSynchronizationContext();
        var subscriber = new ContextRecorder();
        var inline = new PriceSubscriber();
        context.RunWithin(() => source.Add(subscriber.Handle));
        source.Add(inline.OnPriceChanged);

        source.Raise(this, s_args);

        // Raise returned before the context ran the handler; the handler with no captured context ran inline.
        Assert.Equal(0, subscriber.Calls);
        Assert.Equal(1, inline.Received);
        Assert.Equal(1, context.Pending);
        context.RunPending();
        Assert.Equal(1, subscriber.Calls);
        Assert.Same(context, subscriber.ContextSeen);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void Raise_CaptureContext_OnThatContext_RunsInline()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>(new WeakEventSourceOptions { CaptureSynchronizationContext = true });
        var context = new QueueSynchronizationContext();
        var subscriber = new ContextRecorder();
        context.RunWithin(() => source.Add(subscriber.Handle));

        context.RunWithin(() => source.Raise(this, s_args));

        Assert.Equal(1, subscriber.Calls);
        Assert.Equal(0, context.Pending);
    }

    [Fact]
    public void Raise_CaptureContext_PostedHandlerThrows_CountedAndRethrownOnTheContext()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>(new WeakEventSourceOptions { CaptureSynchronizationContext = true });
        var context = new QueueSynchronizationContext();
        var subscriber = new ContextRecorder { Throw = true };
        context.RunWithin(() => source.Add(subscriber.Handle));

        source.Raise(this, s_args);

        Assert.Throws<InvalidOperationException>(context.RunPending);
        Assert.Equal(1, source.GetStatistics().HandlerFailures);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void Raise_ContextNotCaptured_HandlerRunsInlineOnRaisingThread()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var context = new QueueSynchronizationContext();
        var subscriber = new ContextRecorder();
        context.RunWithin(() => source.Add(subscriber.Handle));

        source.Raise(this, s_args);

        Assert.Equal(1, subscriber.Calls);
        Assert.Equal(0, context.Pending);
    }

    // ---- Bad input, options, statistics, telemetry ------------------------------------------------------------

    [Fact]
    public void Members_NullArguments_ThrowArgumentNullException()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("test");
        var subscriber = new PriceSubscriber();

        Assert.Throws<ArgumentNullException>("handler", () => source.Add(null!));
        Assert.Throws<ArgumentNullException>("handler", () => source.Add(new object(), null!));
        Assert.Throws<ArgumentNullException>("owner", () => source.Add(null!, subscriber.OnPriceChanged));
        Assert.Throws<ArgumentNullException>("handler", () => source.Remove(null!));
        Assert.Throws<ArgumentNullException>("options", () => new WeakEventSource<PriceChangedEventArgs>((WeakEventSourceOptions)null!));
        Assert.Throws<ArgumentNullException>(() => new WeakEventSource<PriceChangedEventArgs>((string)null!));
        Assert.Throws<ArgumentException>(() => new WeakEventSource<PriceChangedEventArgs>(string.Empty));
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void Options_Defaults_AreDocumentedValues()
    {
        var options = new WeakEventSourceOptions();

        Assert.Null(options.Name);
        Assert.False(options.CaptureSynchronizationContext);
        Assert.Null(options.MeterFactory);
        Assert.StartsWith("event-", new WeakEventSource<PriceChangedEventArgs>().Name, StringComparison.Ordinal);
    }

    [Fact]
    public void GetStatistics_AfterActivity_ReportsEveryFigure()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("stats");
        WeakReference dead = SubscribeInstance(source);
        var subscriber = new PriceSubscriber();
        var owner = new object();
        source.Add(subscriber.OnPriceChanged);
        source.Add(owner, static (_, _) => throw new InvalidOperationException("x"));
        GcAssert.Collected(dead);

        Assert.Throws<InvalidOperationException>(() => source.Raise(this, s_args));
        WeakEventStatistics statistics = source.GetStatistics();

        Assert.Equal("stats", statistics.Name);
        Assert.Equal(2, statistics.Count);
        Assert.Equal(1, statistics.Reclamations);
        Assert.Equal(2, statistics.Raises);
        Assert.Equal(1, statistics.HandlerFailures);
        Assert.Contains("stats", statistics.ToString(), StringComparison.Ordinal);
        GC.KeepAlive(subscriber);
        GC.KeepAlive(owner);
    }

    [Fact]
    public void Instruments_ReportNamesUnitsTagsAndValues()
    {
        using var factory = new TestMeterFactory();
        var source = new WeakEventSource<PriceChangedEventArgs>(new WeakEventSourceOptions { Name = "prices", MeterFactory = factory });
        using var recorder = new MetricRecorder(factory.Meters.Single());
        WeakReference dead = SubscribeInstance(source);
        var subscriber = new PriceSubscriber();
        var owner = new object();
        source.Add(subscriber.OnPriceChanged);
        source.Add(owner, static (_, _) => throw new InvalidOperationException("x"));
        GcAssert.Collected(dead);
        Assert.Throws<InvalidOperationException>(() => source.Raise(this, s_args));

        Assert.Equal(2, recorder.ObserveValue("safemem.event.subscription.count", "prices"));
        Assert.Equal(1, recorder.ObserveValue("safemem.event.reclamations", "prices"));
        Assert.Equal(2, recorder.ObserveValue("safemem.event.raises", "prices"));
        Assert.Equal(1, recorder.ObserveValue("safemem.event.handler.failures", "prices"));
        Assert.Equal("{subscription}", recorder.Instruments["safemem.event.subscription.count"].Unit);
        Assert.Equal("{subscription}", recorder.Instruments["safemem.event.reclamations"].Unit);
        Assert.Equal("{raise}", recorder.Instruments["safemem.event.raises"].Unit);
        Assert.Equal("{failure}", recorder.Instruments["safemem.event.handler.failures"].Unit);
        Assert.IsType<System.Diagnostics.Metrics.ObservableUpDownCounter<long>>(recorder.Instruments["safemem.event.subscription.count"]);
        Assert.IsType<System.Diagnostics.Metrics.ObservableCounter<long>>(recorder.Instruments["safemem.event.raises"]);
        Assert.All(recorder.Instruments.Values, i => Assert.False(string.IsNullOrEmpty(i.Description)));
        GC.KeepAlive(subscriber);
        GC.KeepAlive(owner);
    }

    [Fact]
    public void DroppedSource_WithSubscribers_IsCollected()
    {
        WeakReference source = CreateSourceWithSubscribers();

        GcAssert.Collected(source);
    }

    // ---- Helpers -----------------------------------------------------------------------------------------------

    private static int s_staticCalls;

    private static void StaticHandler(object? sender, PriceChangedEventArgs e) => Interlocked.Increment(ref s_staticCalls);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddStatic(WeakEventSource<PriceChangedEventArgs> source)
    {
        source.Add(StaticHandler);
        source.Add(s_nonCapturingLambda);
    }

    private static readonly EventHandler<PriceChangedEventArgs> s_nonCapturingLambda = static (_, _) => Interlocked.Increment(ref s_staticCalls);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeInstance(WeakEventSource<PriceChangedEventArgs> source)
    {
        var subscriber = new PriceSubscriber();
        source.Add(subscriber.OnPriceChanged);
        source.Raise(null, s_args);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SubscribeMany(WeakEventSource<PriceChangedEventArgs> source, int count)
    {
        for (int i = 0; i < count; i++)
        {
            source.Add(new PriceSubscriber().OnPriceChanged);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribePlain(PlainPublisher publisher)
    {
        var subscriber = new PriceSubscriber();
        publisher.PriceChanged += subscriber.OnPriceChanged;
        publisher.Raise(1m);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeCapturingLambda(WeakEventSource<PriceChangedEventArgs> source)
    {
        var subscriber = new PriceSubscriber();
        subscriber.SubscribeCapturingLambda(source);
        source.Raise(null, s_args);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Owner, WeakReference Closure) SubscribeWithOwner(WeakEventSource<PriceChangedEventArgs> source)
    {
        var owner = new object();
        var counter = new StrongBox<int>();
        EventHandler<PriceChangedEventArgs> handler = (_, _) => counter.Value++;
        source.Add(owner, handler);
        source.Raise(null, s_args);
        Assert.Equal(1, counter.Value);
        return (new WeakReference(owner), new WeakReference(handler.Target));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddOwned(WeakEventSource<PriceChangedEventArgs> source, object owner, Action onRaise)
        => source.Add(owner, (_, _) => onRaise());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreateSourceWithSubscribers()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("dropped");
        var subscriber = new PriceSubscriber();
        source.Add(subscriber.OnPriceChanged);
        source.Add(StaticHandler);
        s_keptSubscribers.Add(subscriber);
        return new WeakReference(source);
    }

    // Keeps the subscribers of the dropped-source tests alive for the whole run, on purpose.
#pragma warning disable SM1001
    private static readonly List<PriceSubscriber> s_keptSubscribers = [];
#pragma warning restore SM1001

    private sealed class WeakPublisher
    {
        private readonly WeakEventSource<PriceChangedEventArgs> _priceChanged = new("prices");

        public event EventHandler<PriceChangedEventArgs> PriceChanged
        {
            add => _priceChanged.Add(value);
            remove => _priceChanged.Remove(value);
        }

        public void OnPriceChanged(decimal price) => _priceChanged.Raise(this, new PriceChangedEventArgs(price));
    }

    private sealed class Recorder(string name, List<string> log)
    {
        public Action? OnHandle { get; set; }

        public object? LastSender { get; private set; }

        public void Handle(object? sender, PriceChangedEventArgs e)
        {
            LastSender = sender;
            log.Add(name);
            OnHandle?.Invoke();
        }

        public void HandleOther(object? sender, PriceChangedEventArgs e) => log.Add(name + ":other");
    }
}
