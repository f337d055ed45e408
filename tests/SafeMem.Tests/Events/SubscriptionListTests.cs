using System.Runtime.CompilerServices;
using SafeMem.Events;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Events;

/// <summary>
/// Engine-level tests that must run alone: multi-threaded stress, and counts of process-wide dependent handles.
/// </summary>
[Collection(StressCollection.Name)]
public sealed class SubscriptionListTests
{
    private static readonly PriceChangedEventArgs s_args = new(1m);

    [Fact]
    public void ConcurrentAddRemoveRaise_InvariantsHold()
    {
        var source = new WeakEventSource<PriceChangedEventArgs>("stress");
        var sentinel = new PriceSubscriber();
        source.Add(sentinel.OnPriceChanged);
        const int Threads = 4;
        long[] raises = new long[Threads];
        long[] added = new long[Threads];
        var kept = new List<PriceSubscriber>[Threads];

        StressRunner.RunFor(Threads, TimeSpan.FromSeconds(2), (thread, random) =>
        {
            kept[thread] ??= [];
            var subscriber = new PriceSubscriber();
            switch (random.Next(4))
            {
                case 0:
                    source.Raise(null, s_args);
                    raises[thread]++;
                    break;
                case 1:
                    // Keep some subscriptions so the array grows, compacts and is purged while others raise.
                    source.Add(subscriber.OnPriceChanged);
                    kept[thread].Add(subscriber);
                    added[thread]++;
                    break;
                case 2 when kept[thread].Count > 0:
                    PriceSubscriber last = kept[thread][^1];
                    kept[thread].RemoveAt(kept[thread].Count - 1);
                    Assert.True(source.Remove(last.OnPriceChanged), "A subscription this thread added was lost.");
                    break;
                default:
                    // Subscribers that die unremoved, for the purges to find.
                    source.Add(new PriceSubscriber().OnPriceChanged);
                    source.Add(subscriber.OnPriceChanged);
                    Assert.True(source.Remove(subscriber.OnPriceChanged), "A subscription this thread added was lost.");
                    break;
            }
        });

        GcAssert.FullCollect();
        long totalRaises = raises.Sum();
        int keptCount = kept.Sum(k => k?.Count ?? 0);

        // Every raise invoked the subscriber that was there all along exactly once; nothing lost, nothing duplicated.
        Assert.Equal(totalRaises, sentinel.Received);
        Assert.Equal(totalRaises, source.GetStatistics().Raises);
        Assert.Equal(keptCount + 1, source.Count);
        foreach (PriceSubscriber subscriber in kept.Where(k => k is not null).SelectMany(k => k))
        {
            Assert.True(source.Remove(subscriber.OnPriceChanged));
        }

        Assert.Equal(1, source.Count);
        Assert.Equal(0, source.GetStatistics().HandlerFailures);
        Assert.True(added.Sum() > 0 && totalRaises > 0);
        GC.KeepAlive(sentinel);
    }

    [Fact]
    public void RemovedSubscriptions_FreeTheirDependentHandles()
    {
        SettleFinalizers();
        long baseline = SubscriptionHandles();
        var source = new WeakEventSource<PriceChangedEventArgs>("handles");
        PriceSubscriber[] subscribers = [.. Enumerable.Range(0, 1_000).Select(_ => new PriceSubscriber())];
        foreach (PriceSubscriber subscriber in subscribers)
        {
            source.Add(subscriber.OnPriceChanged);
        }

        // Control: while subscribed, each weak subscription holds one handle.
        Assert.True(SubscriptionHandles() - baseline >= 1_000);
        foreach (PriceSubscriber subscriber in subscribers)
        {
            source.Remove(subscriber.OnPriceChanged);
        }

        Assert.True(WaitForHandles(baseline + 10), $"{SubscriptionHandles() - baseline} handles still allocated after removing every subscription.");
        GC.KeepAlive(source);
        GC.KeepAlive(subscribers);
    }

    [Fact]
    public void DroppedSources_FreeTheirDependentHandles()
    {
        SettleFinalizers();
        long baseline = SubscriptionHandles();
        var subscribers = new List<PriceSubscriber>();
        List<WeakEventSource<PriceChangedEventArgs>> sources = CreateSources(200, subscribers);

        // Control: the sources hold their handles while they live.
        Assert.True(SubscriptionHandles() - baseline >= 2_000);
        sources.Clear();

        Assert.True(WaitForHandles(baseline + 10), $"{SubscriptionHandles() - baseline} handles still allocated after dropping the sources.");
        GC.KeepAlive(subscribers);
    }

    [Fact]
    public void WeakEventSubscription_ManySubscribeDisposeCycles_TrackingStaysBounded()
    {
        var publisher = new PlainPublisher();
        var subscriber = new PriceSubscriber();
        for (int i = 0; i < 5_000; i++)
        {
            WeakEventSubscription.Subscribe<PlainPublisher, PriceSubscriber, PriceChangedEventArgs>(
                publisher,
                subscriber,
                static (p, h) => p.PriceChanged += h,
                static (p, h) => p.PriceChanged -= h,
                static (s, sender, e) => s.OnPriceChanged(sender, e)).Dispose();
        }

        Assert.Equal(0, publisher.HandlerCount);
        Assert.True(ForwarderSweeperTrackedCount() < 1_000, $"{ForwarderSweeperTrackedCount()} forwarders tracked after 5,000 disposed subscriptions.");
    }

    private static long SubscriptionHandles() => SubscriptionTable.AllocatedHandles;

    private static void SettleFinalizers()
    {
        // Twice: subscriptions found dead by the last collection of the first pass are finalized in the second, so
        // the baseline does not drift down while the test measures.
        GcAssert.FullCollect();
        GcAssert.FullCollect();
    }

    private static int ForwarderSweeperTrackedCount() => ForwarderSweeper.TrackedCount;

    private static bool WaitForHandles(long atMost)
        => SpinWait.SpinUntil(
            () =>
            {
                GcAssert.FullCollect();
                return SubscriptionHandles() <= atMost;
            },
            TimeSpan.FromSeconds(10));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakEventSource<PriceChangedEventArgs>> CreateSources(int count, List<PriceSubscriber> subscribers)
    {
        var sources = new List<WeakEventSource<PriceChangedEventArgs>>();
        for (int i = 0; i < count; i++)
        {
            var source = new WeakEventSource<PriceChangedEventArgs>("dropped");
            for (int j = 0; j < 10; j++)
            {
                var subscriber = new PriceSubscriber();
                subscribers.Add(subscriber);
                source.Add(subscriber.OnPriceChanged);
            }

            sources.Add(source);
        }

        return sources;
    }
}
