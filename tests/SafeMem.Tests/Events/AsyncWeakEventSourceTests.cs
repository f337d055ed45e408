using System.Runtime.CompilerServices;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

public sealed class AsyncWeakEventSourceTests
{
    private static readonly PriceChangedEventArgs s_args = new(7m);

    [Fact]
    public async Task RaiseAsync_HandlersAwaitedOneAfterAnotherInSubscriptionOrder()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>("async");
        var log = new List<string>();
        var first = new AsyncRecorder("first", log, delay: 30);
        var second = new AsyncRecorder("second", log, delay: 0);
        source.Add(first.HandleAsync);
        source.Add(second.HandleAsync);

        await source.RaiseAsync(this, s_args);

        // Sequential: the first handler finished (after its delay) before the second started.
        Assert.Equal(["first:start", "first:end", "second:start", "second:end"], log);

        // Subscribers are held weakly: without these, a collection during the await may take them (as designed).
        GC.KeepAlive(first);
        GC.KeepAlive(second);
    }

    [Fact]
    public async Task RaiseAsync_NoSubscribers_CompletesSynchronously()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>();

        Task raise = source.RaiseAsync(this, s_args);

        Assert.True(raise.IsCompletedSuccessfully);
        await raise;
        Assert.Equal(1, source.GetStatistics().Raises);
    }

    [Fact]
    public async Task RaiseAsync_HandlersThrowSynchronouslyAndAsynchronously_AllRunThenAggregated()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>("async");
        var log = new List<string>();
        var syncThrower = new AsyncRecorder("sync", log, delay: 0) { ThrowBeforeAwait = true };
        var asyncThrower = new AsyncRecorder("async", log, delay: 5) { ThrowAfterAwait = true };
        var fine = new AsyncRecorder("fine", log, delay: 0);
        source.Add(syncThrower.HandleAsync);
        source.Add(asyncThrower.HandleAsync);
        source.Add(fine.HandleAsync);

        AggregateException thrown = await Assert.ThrowsAsync<AggregateException>(() => source.RaiseAsync(this, s_args));

        Assert.Equal(2, thrown.InnerExceptions.Count);
        Assert.Contains("fine:end", log);
        Assert.Equal(2, source.GetStatistics().HandlerFailures);
        GC.KeepAlive(syncThrower);
        GC.KeepAlive(asyncThrower);
        GC.KeepAlive(fine);
    }

    [Fact]
    public async Task RaiseAsync_OneHandlerFaults_ThatExceptionIsThrown()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>("async");
        var log = new List<string>();
        var thrower = new AsyncRecorder("t", log, delay: 1) { ThrowAfterAwait = true };
        source.Add(thrower.HandleAsync);

        await Assert.ThrowsAsync<InvalidOperationException>(() => source.RaiseAsync(this, s_args));
        GC.KeepAlive(thrower);
    }

    [Fact]
    public void Add_InstanceHandler_SubscriberCollectedWhilePublisherLives()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>("async");
        WeakReference subscriber = Subscribe(source);

        GcAssert.Collected(subscriber);
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public void StrongDelegateList_InstanceHandler_KeepsSubscriberAlive()
    {
        // Control: an ordinary (strong) list of async handlers keeps the subscriber alive.
        var handlers = new List<Func<object?, PriceChangedEventArgs, Task>>();
        WeakReference subscriber = SubscribeStrong(handlers);

        GcAssert.Alive(subscriber);
        GC.KeepAlive(handlers);
    }

    [Fact]
    public async Task AddRemove_WithOwnerAndRemove_BehaveAsForTheSyncSource()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>("async");
        var subscriber = new PriceSubscriber();
        var owner = new object();
        int calls = 0;
        int increment = 1;
        source.Add(owner, (_, _) =>
        {
            calls += increment;
            return Task.CompletedTask;
        });
        source.Add(subscriber.OnPriceChangedAsync);

        Assert.True(source.Remove(subscriber.OnPriceChangedAsync));
        await source.RaiseAsync(this, s_args);

        Assert.Equal(1, calls);
        Assert.Equal(0, subscriber.Received);
        Assert.Throws<ArgumentException>(() => source.Add((_, _) => Task.FromResult(increment)));
        Assert.Throws<ArgumentNullException>(() => source.Add(null!));
        Assert.Throws<ArgumentNullException>(() => source.Add(null!, subscriber.OnPriceChangedAsync));
        source.Clear();
        Assert.Equal(0, source.Count);
        GC.KeepAlive(owner);
    }

    [Fact]
    public void Add_MethodOfAStructOrBoxedOwner_ThrowsArgumentException()
    {
        // Regression (#14): a box only the delegate references would silently end the subscription at the next GC.
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>("async");
        var counter = new StructCounter();

        Assert.Throws<ArgumentException>("handler", () => source.Add(counter.OnPriceChangedAsync));
        Assert.Throws<ArgumentException>("owner", () => source.Add(counter, static (_, _) => Task.CompletedTask));
        Assert.Equal(0, source.Count);
    }

    [Fact]
    public async Task RaiseAsync_CaptureContext_HandlerStartsOnItsContextAndIsAwaited()
    {
        var source = new AsyncWeakEventSource<PriceChangedEventArgs>(new WeakEventSourceOptions { CaptureSynchronizationContext = true });
        var context = new QueueSynchronizationContext();
        var subscriber = new ContextRecorder();
        context.RunWithin(() => source.Add(subscriber.HandleAsync));

        Task raise = source.RaiseAsync(this, s_args);
        Assert.False(raise.IsCompleted);
        Assert.Equal(0, subscriber.Calls);

        // Pump the "UI thread" until the handler (which yields back to its context once) completes.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!raise.IsCompleted && DateTime.UtcNow < deadline)
        {
            context.RunPending();
            await Task.Delay(1);
        }

        await raise;
        Assert.Equal(1, subscriber.Calls);
        Assert.Same(context, subscriber.ContextSeen);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference Subscribe(AsyncWeakEventSource<PriceChangedEventArgs> source)
    {
        var subscriber = new PriceSubscriber();
        source.Add(subscriber.OnPriceChangedAsync);
        Assert.True(source.RaiseAsync(null, s_args).IsCompletedSuccessfully);
        Assert.Equal(1, subscriber.Received);
        return new WeakReference(subscriber);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeStrong(List<Func<object?, PriceChangedEventArgs, Task>> handlers)
    {
        var subscriber = new PriceSubscriber();
        handlers.Add(subscriber.OnPriceChangedAsync);
        return new WeakReference(subscriber);
    }

    private sealed class AsyncRecorder(string name, List<string> log, int delay)
    {
        public bool ThrowBeforeAwait { get; init; }

        public bool ThrowAfterAwait { get; init; }

        public async Task HandleAsync(object? sender, PriceChangedEventArgs e)
        {
            lock (log)
            {
                log.Add(name + ":start");
            }

            if (ThrowBeforeAwait)
            {
                throw new InvalidOperationException(name);
            }

            await Task.Delay(delay);
            if (ThrowAfterAwait)
            {
                throw new InvalidOperationException(name);
            }

            lock (log)
            {
                log.Add(name + ":end");
            }
        }
    }
}
