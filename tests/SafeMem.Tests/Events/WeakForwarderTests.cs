using System.Runtime.CompilerServices;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

[Collection(StressCollection.Name)]
public sealed class WeakForwarderTests
{
    [Fact]
    public void DisposeRaiseAndSweep_RacingOnAnOrphan_RemoveHandlerRunsExactlyOnce()
    {
        for (int round = 0; round < 20; round++)
        {
            var publisher = new PlainPublisher();
            var removes = new StrongBox<int>();
            (WeakReference subscriber, IDisposable subscription) = SubscribeOrphanCandidate(publisher, removes);
            GcAssert.Collected(subscriber);

            // The three ways a forwarder detaches, at once: an explicit Dispose, a raise that finds the subscriber
            // gone, and the sweep.
            StressRunner.Run(3, thread =>
            {
                switch (thread)
                {
                    case 0:
                        subscription.Dispose();
                        break;
                    case 1:
                        publisher.Raise(1m);
                        break;
                    default:
                        ForwarderSweeper.Sweep();
                        break;
                }
            });

            // The sweep queued by the collections above may be the winner, still running on the thread pool.
            Assert.True(SpinWait.SpinUntil(() => publisher.HandlerCount == 0, TimeSpan.FromSeconds(10)));
            Assert.Equal(1, Volatile.Read(ref removes.Value));
        }
    }

    [Fact]
    public void Dispose_RemoveHandlerThrows_ExceptionPropagatesOnce()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        IDisposable subscription = WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            static (_, _) => throw new InvalidOperationException("cannot unsubscribe"),
            static (s, sender, e) => s.OnPriceChanged(sender, e));

        Assert.Throws<InvalidOperationException>(subscription.Dispose);
        subscription.Dispose();

        // The source kept the forwarder, since its own remove failed; it is inert: it no longer reaches the subscriber.
        Assert.Equal(1, publisher.HandlerCount);
        publisher.Raise(1m);
        Assert.Equal(0, subscriber.Received);
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void DisposedSubscriptions_FreeTheirWeakHandles()
    {
        GcAssert.FullCollect();
        GcAssert.FullCollect();
        long baseline = WeakHandleBlock.Live;
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        List<IDisposable> subscriptions = Subscribe(publisher, subscriber, 3_200);

        // Control: while they live, the subscriptions hold their handles (two per subscription, 64 per block).
        Assert.True(WeakHandleBlock.Live - baseline >= 90, $"{WeakHandleBlock.Live - baseline} blocks for 3,200 subscriptions.");
        subscriptions.ForEach(s => s.Dispose());
        subscriptions.Clear();

        Assert.Equal(0, publisher.HandlerCount);
        bool freed = SpinWait.SpinUntil(
            () =>
            {
                GcAssert.FullCollect();
                return WeakHandleBlock.Live <= baseline + 4;
            },
            TimeSpan.FromSeconds(10));
        Assert.True(freed, $"{WeakHandleBlock.Live - baseline} handle blocks still live after disposing every subscription.");
        GC.KeepAlive(subscriber);
    }

    [Fact]
    public void ConcurrentSubscribeDisposeRaise_InvariantsHold()
    {
        var publisher = new PlainPublisher();
        var sentinel = new PriceSubscriber();
        IDisposable sentinelSubscription = Subscribe(publisher, sentinel, 1)[0];
        const int Threads = 4;
        long[] raises = new long[Threads];
        var held = new List<(PriceSubscriber Subscriber, IDisposable Subscription)>[Threads];

        StressRunner.RunFor(Threads, TimeSpan.FromSeconds(2), (thread, random) =>
        {
            held[thread] ??= [];
            switch (random.Next(4))
            {
                case 0:
                    publisher.Raise(1m);
                    raises[thread]++;
                    break;
                case 1:
                    var subscriber = new PriceSubscriber();
                    held[thread].Add((subscriber, Subscribe(publisher, subscriber, 1)[0]));
                    break;
                case 2 when held[thread].Count > 0:
                    // (A raise in flight on another thread may still deliver once to a subscription being disposed, as
                    // with any event, so delivery after Dispose is checked by the single-threaded tests.)
                    IDisposable subscription = held[thread][^1].Subscription;
                    held[thread].RemoveAt(held[thread].Count - 1);
                    subscription.Dispose();
                    break;
                default:
                    // Subscribers that die without disposing, for raises and sweeps to detach.
                    Subscribe(publisher, new PriceSubscriber(), 1);
                    break;
            }
        });

        // Every raise reached the subscriber that was there all along exactly once.
        Assert.Equal(raises.Sum(), sentinel.Received);
        foreach ((_, IDisposable subscription) in held.Where(h => h is not null).SelectMany(h => h))
        {
            subscription.Dispose();
        }

        sentinelSubscription.Dispose();

        // The orphans leave on the next raise (or sweep): nothing is left on the event.
        Assert.True(
            SpinWait.SpinUntil(
                () =>
                {
                    GcAssert.FullCollect();
                    publisher.Raise(1m);
                    return publisher.HandlerCount == 0;
                },
                TimeSpan.FromSeconds(10)),
            $"{publisher.HandlerCount} handlers left on the event.");
        GC.KeepAlive(sentinel);
    }

    private static List<IDisposable> Subscribe(PlainPublisher publisher, PriceSubscriber subscriber, int count)
    {
        var subscriptions = new List<IDisposable>(count);
        for (int i = 0; i < count; i++)
        {
            subscriptions.Add(WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
                publisher,
                subscriber,
                static (p, h) => p.PriceChanged += h,
                static (p, h) => p.PriceChanged -= h,
                static (s, sender, e) => s.OnPriceChanged(sender, e)));
        }

        return subscriptions;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Subscriber, IDisposable Subscription) SubscribeOrphanCandidate(PlainPublisher publisher, StrongBox<int> removes)
    {
        var subscriber = new PriceSubscriber();
        IDisposable subscription = WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
            publisher,
            subscriber,
            static (p, h) => p.PriceChanged += h,
            (p, h) =>
            {
                Interlocked.Increment(ref removes.Value);
                p.PriceChanged -= h;
            },
            static (s, sender, e) => s.OnPriceChanged(sender, e));
        return (new WeakReference(subscriber), subscription);
    }
}
