using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;
using SafeMem.Disposal;
using SafeMem.Pooling;
using SafeMem.Tests.Disposal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Pooling;

public sealed class TrackedObjectPoolTests
{
    [Fact]
    public void GetAndReturn_ReusesObjectsAndCountsRentalsReturnsCreations()
    {
        var policy = new ThingPolicy();
        using var pool = new TrackedObjectPool<PooledThing>(policy, new TrackedObjectPoolOptions { Name = "counts" });

        PooledThing a = pool.Get();
        PooledThing b = pool.Get();
        pool.Return(a);
        PooledThing again = pool.Get();

        Assert.Same(a, again);
        PoolStatistics statistics = pool.GetStatistics();
        Assert.Equal(3, statistics.Rentals);
        Assert.Equal(1, statistics.Returns);
        Assert.Equal(2, statistics.Creations);
        Assert.Equal(2, statistics.OutstandingCount);
        Assert.Equal(2, policy.Creates);
        Assert.Equal("counts", pool.Name);
        GC.KeepAlive(b);
    }

    [Fact]
    public void Return_PoolFull_DropsAndDisposesTheObject()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { MaximumRetained = 2 });
        PooledThing[] rented = [pool.Get(), pool.Get(), pool.Get()];

        foreach (PooledThing thing in rented)
        {
            pool.Return(thing);
        }

        Assert.Equal(0, rented[0].Disposals);
        Assert.Equal(0, rented[1].Disposals);
        Assert.Equal(1, rented[2].Disposals);
        PoolStatistics statistics = pool.GetStatistics();
        Assert.Equal(1, statistics.Drops);
        Assert.Equal(0, statistics.PolicyRejections);
        Assert.Equal(0, statistics.OutstandingCount);
    }

    [Fact]
    public void Return_PolicyRefuses_DropsAndDisposes()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy());
        PooledThing thing = pool.Get();
        thing.Dirty = true;

        pool.Return(thing);

        Assert.Equal(1, thing.Disposals);
        Assert.NotSame(thing, pool.Get());
        Assert.Equal(1, pool.GetStatistics().PolicyRejections);
        Assert.Equal(1, pool.GetStatistics().Drops);
    }

    [Fact]
    public void Return_PolicyThrows_DropsDisposesAndPropagates()
    {
        var policy = new ThingPolicy();
        using var pool = new TrackedObjectPool<PooledThing>(policy);
        PooledThing thing = pool.Get();
        policy.ThrowOnReturn = true;

        Assert.Throws<InvalidOperationException>(() => pool.Return(thing));

        Assert.Equal(1, thing.Disposals);
        policy.ThrowOnReturn = false;
        Assert.NotSame(thing, pool.Get());
    }

    [Fact]
    public void Return_SameObjectTwiceInARow_ThrowsAtAnySamplingRate()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy());
        PooledThing thing = pool.Get();
        pool.Return(thing);

        Assert.Throws<InvalidOperationException>(() => pool.Return(thing));

        Assert.Equal(1, pool.GetStatistics().InvalidReturns);
        Assert.Equal(1, pool.GetStatistics().Returns);
        Assert.Same(thing, pool.Get());
        Assert.NotSame(thing, pool.Get());
    }

    [Fact]
    public void Return_DoubleReturnWhenEveryRentalIsTracked_ThrowsEvenAfterTheObjectMovedOn()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { SamplingRate = 1 });
        PooledThing first = pool.Get();
        PooledThing second = pool.Get();
        pool.Return(first);
        pool.Return(second);

        // `first` is no longer in the fast slot (second is), so only the tracking can tell.
        Assert.Throws<InvalidOperationException>(() => pool.Return(first));

        PoolStatistics statistics = pool.GetStatistics();
        Assert.Equal(1, statistics.InvalidReturns);
        Assert.Equal(2, statistics.Returns);
        Assert.Equal(0, statistics.OutstandingCount);
        Assert.NotSame(pool.Get(), pool.Get());
    }

    [Fact]
    public void Return_ForeignObjectWhenEveryRentalIsTracked_Throws()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { SamplingRate = 1 });

        Assert.Throws<InvalidOperationException>(() => pool.Return(new PooledThing()));
        Assert.Equal(1, pool.GetStatistics().InvalidReturns);
    }

    [Fact]
    public void Return_ForeignObjectWithoutTracking_IsAcceptedAsDocumented()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy());
        var foreign = new PooledThing();

        pool.Return(foreign);

        Assert.Same(foreign, pool.Get());
    }

    [Fact]
    public void Return_Null_Throws()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy());

        Assert.Throws<ArgumentNullException>(() => pool.Return(null!));
    }

    [Fact]
    public void Dispose_DisposesIdleObjects_GetThrows_ReturnDisposes()
    {
        var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { SamplingRate = 1 });
        PooledThing idle1 = pool.Get();
        PooledThing idle2 = pool.Get();
        PooledThing rented = pool.Get();
        pool.Return(idle1);
        pool.Return(idle2);

        pool.Dispose();
        pool.Dispose();

        Assert.Equal(1, idle1.Disposals);
        Assert.Equal(1, idle2.Disposals);
        Assert.Throws<ObjectDisposedException>(() => pool.Get());
        pool.Return(rented);
        Assert.Equal(1, rented.Disposals);
        // A second return after disposal is still refused, so the object is not disposed twice.
        Assert.Throws<InvalidOperationException>(() => pool.Return(rented));
        Assert.Equal(1, rented.Disposals);
    }

    [Fact]
    public void Get_PolicyCreateThrows_CountsNothing()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThrowingPolicy());

        Assert.Throws<InvalidOperationException>(() => pool.Get());

        PoolStatistics statistics = pool.GetStatistics();
        Assert.Equal(0, statistics.Rentals);
        Assert.Equal(0, statistics.Creations);
    }

    [Fact]
    public void RentedNeverReturned_IsReportedWithTheRentingStack()
    {
        using var pool = new TrackedObjectPool<PooledThing>(
            new ThingPolicy(),
            new TrackedObjectPoolOptions { Name = "leaky-pool", SamplingRate = 1, CaptureStackTrace = true });
        using var recorder = new LeakRecorder(pool.LeakTracker!);

        RentAndDrop(pool);
        RentAndReturn(pool);
        LeakReport report = Assert.Single(recorder.CollectUntil(1));
        recorder.CollectAndSettle();

        Assert.Single(recorder.Reports);
        Assert.Equal(typeof(PooledThing), report.ResourceType);
        Assert.Equal("leaky-pool", report.TrackerName);
        Assert.Contains("'leaky-pool'", report.Details);
        Assert.Contains(nameof(RentAndDrop), report.CreationStackTrace);
        Assert.Contains(nameof(RentedNeverReturned_IsReportedWithTheRentingStack), report.CreationStackTrace);
        PoolStatistics statistics = pool.GetStatistics();
        Assert.Equal(1, statistics.Leaks);
        Assert.Equal(0, statistics.OutstandingCount);
        Assert.Equal(2, statistics.Rentals);
    }

    [Fact]
    public void TrackingOff_HasNoTracker_AndLeaksStayOutstanding()
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy());

        RentAndDrop(pool);
        GcAssert.FullCollect();

        Assert.Null(pool.LeakTracker);
        Assert.Equal(1, pool.GetStatistics().OutstandingCount);
        Assert.Equal(0, pool.GetStatistics().Leaks);
    }

    [Fact]
    public void SharedTracker_ItsSamplingApplies()
    {
        var tracker = new LeakTracker("shared", new LeakTrackerOptions { SamplingRate = 1 });
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { LeakTracker = tracker, SamplingRate = 0 });

        PooledThing thing = pool.Get();

        Assert.Same(tracker, pool.LeakTracker);
        Assert.Equal(1, tracker.GetStatistics().ObjectCount);
        pool.Return(thing);
        Assert.Equal(0, tracker.GetStatistics().ObjectCount);
        Assert.Equal(1, tracker.GetStatistics().Disposals);
    }

    [Fact]
    public void SampledRentals_AboutTheRate_AndEveryTrackedRentalClosedOnReturn()
    {
        var tracker = new LeakTracker("sampled-pool", new LeakTrackerOptions { SamplingRate = 1.0 / 128 });
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { LeakTracker = tracker });

        for (int i = 0; i < 128_000; i++)
        {
            pool.Return(pool.Get());
        }

        // Mean 1000, standard deviation 31.5: ±190 is six deviations.
        LeakTrackerStatistics statistics = tracker.GetStatistics();
        Assert.InRange(statistics.Additions, 1000 - 190, 1000 + 190);
        Assert.Equal(statistics.Additions, statistics.Disposals);
        Assert.Equal(0, pool.GetStatistics().OutstandingCount);
    }

    [Fact]
    public void DefaultPolicy_WithResettableObjects_CallsTryReset()
    {
        using var pool = new TrackedObjectPool<Resettable>(new DefaultPooledObjectPolicy<Resettable>());
        Resettable item = pool.Get();
        item.Refuse = true;

        pool.Return(item);

        Assert.Equal(1, item.Resets);
        Assert.NotSame(item, pool.Get());
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new TrackedObjectPool<PooledThing>(null!));
        Assert.Throws<ArgumentNullException>(() => new TrackedObjectPool<PooledThing>(new ThingPolicy(), null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrackedObjectPoolOptions { MaximumRetained = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrackedObjectPoolOptions { SamplingRate = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrackedObjectPoolOptions { SamplingRate = double.NaN });
        Assert.Equal("Name", Assert.Throws<ArgumentException>(() => new TrackedObjectPoolOptions { Name = " " }).ParamName);
    }

    [Fact]
    public void Constructor_Unnamed_GetsAUniqueGeneratedName()
    {
        using var a = new TrackedObjectPool<PooledThing>(new ThingPolicy());
        using var b = new TrackedObjectPool<PooledThing>(new ThingPolicy());

        Assert.StartsWith("pool-", a.Name, StringComparison.Ordinal);
        Assert.NotEqual(a.Name, b.Name);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndDrop(TrackedObjectPool<PooledThing> pool) => _ = pool.Get();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndReturn(TrackedObjectPool<PooledThing> pool) => pool.Return(pool.Get());

    public sealed class Resettable : IResettable
    {
        public int Resets { get; private set; }

        public bool Refuse { get; set; }

        public bool TryReset()
        {
            Resets++;
            return !Refuse;
        }
    }

    private sealed class ThrowingPolicy : IPooledObjectPolicy<PooledThing>
    {
        public PooledThing Create() => throw new InvalidOperationException("cannot create");

        public bool Return(PooledThing obj) => true;
    }
}
