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

        // The source kept the (now inert) forwarder, since its own remove failed; it still forwards while the subscriber lives.
        Assert.Equal(1, publisher.HandlerCount);
        GC.KeepAlive(subscriber);
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
