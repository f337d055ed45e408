using System.Collections.Concurrent;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

/// <summary>
/// The storage generations behind a weak event source: what a raise in flight sees while the source grows, compacts
/// and frees handles under it.
/// </summary>
[Collection(StressCollection.Name)]
public sealed class SubscriptionTableTests
{
    private static readonly PriceChangedEventArgs s_args = new(1m);
    private static readonly ConcurrentQueue<string> s_staticLog = new();

    [Fact]
    public void Raise_HandlerRemovesOthersUntilCompactionThenAStaticOne_NoRemovedHandlerRuns()
    {
        // The first handler removes enough subscriptions to move the source into a new generation, then removes a
        // handler held strongly (a static method). The raise still iterates the old generation: every removal must
        // show there too, the strongly held one included.
        var source = new WeakEventSource<PriceChangedEventArgs>("generations");
        var log = new ConcurrentQueue<string>();
        var removed = Enumerable.Range(0, 20).Select(i => new Logger("r" + i, log)).ToList();
        var first = new Logger("first", log);
        var last = new Logger("last", log);
        first.OnHandle = () =>
        {
            foreach (Logger logger in removed)
            {
                Assert.True(source.Remove(logger.Handle));
            }

            Assert.True(source.Remove(StaticHandler));
        };
        source.Add(first.Handle);
        removed.ForEach(logger => source.Add(logger.Handle));
        source.Add(StaticHandler);
        source.Add(last.Handle);
        int capacityBefore = source.List.Capacity;
        s_staticLog.Clear();

        source.Raise(this, s_args);

        Assert.True(source.List.Capacity < capacityBefore, "The removals did not move the source into a smaller generation.");
        Assert.Equal(["first", "last"], log);
        Assert.Empty(s_staticLog);
        Assert.Equal(2, source.Count);
        GC.KeepAlive(removed);
        GC.KeepAlive(last);
    }

    [Fact]
    public async Task Raise_InFlightWhileGenerationsAreReplacedAndFinalized_NeverInvokesAnotherSubscriptionsHandler()
    {
        // A raise blocked in its first handler holds the generation it started on. Meanwhile the source moves to a
        // second generation, a subscription is removed there (the second generation keeps its cleared handle), and the
        // source moves on to a third; collections run, and many new subscriptions allocate handles. The raise must
        // then see the removal, and never a new subscription through a handle freed and reused under it.
        var source = new WeakEventSource<PriceChangedEventArgs>("in-flight");
        var log = new ConcurrentQueue<string>();
        var keep = new List<Logger>();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var blocker = new Logger("blocker", log) { OnHandle = () => { entered.Set(); release.Wait(); } };
        var removedLater = new Logger("removed", log);
        var survivor = new Logger("survivor", log);
        source.Add(blocker.Handle);
        source.Add(removedLater.Handle);
        source.Add(survivor.Handle);

        Task raise = Task.Run(() => source.Raise(this, s_args));
        Assert.True(entered.Wait(TimeSpan.FromSeconds(10)));
        try
        {
            int first = source.List.Capacity;
            AddUntilCapacityChanges(source, keep, log, "filler", first);
            Assert.True(source.Remove(removedLater.Handle));
            AddUntilCapacityChanges(source, keep, log, "filler", source.List.Capacity);
            GcAssert.FullCollect();
            GcAssert.FullCollect();
            for (int i = 0; i < 2_000; i++)
            {
                var late = new Logger("late", log);
                keep.Add(late);
                source.Add(late.Handle);
            }
        }
        finally
        {
            release.Set();
        }

        await raise.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["blocker", "survivor"], log);
        GC.KeepAlive(removedLater);
        GC.KeepAlive(survivor);
        GC.KeepAlive(keep);
    }

    [Fact]
    public void FirstAdd_MovesOutOfTheSharedEmptyGeneration_WithoutLinkingIt()
    {
        // The shared empty generation must never reference a source's storage (it would keep it alive forever).
        var source = new WeakEventSource<PriceChangedEventArgs>("empty");
        var subscriber = new PriceSubscriber();
        source.Add(subscriber.OnPriceChanged);
        source.Clear();
        source.Add(subscriber.OnPriceChanged);

        Assert.Null(SubscriptionTable.Empty.Successor);
        Assert.Equal(0, SubscriptionTable.Empty.Capacity);
    }

    private static void AddUntilCapacityChanges(WeakEventSource<PriceChangedEventArgs> source, List<Logger> keep, ConcurrentQueue<string> log, string name, int capacity)
    {
        while (source.List.Capacity == capacity)
        {
            var logger = new Logger(name, log);
            keep.Add(logger);
            source.Add(logger.Handle);
        }
    }

    private static void StaticHandler(object? sender, PriceChangedEventArgs e) => s_staticLog.Enqueue("static");

    private sealed class Logger(string name, ConcurrentQueue<string> log)
    {
        public Action? OnHandle { get; set; }

        public void Handle(object? sender, PriceChangedEventArgs e)
        {
            log.Enqueue(name);
            OnHandle?.Invoke();
        }
    }
}
