using System.Runtime.CompilerServices;
using SafeMem.Pooling;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Pooling;

public sealed class TrackedObjectPoolGcTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void RentedObject_IsNotKeptAliveByThePool(double samplingRate)
    {
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { SamplingRate = samplingRate });

        WeakReference rented = Rent(pool);

        GcAssert.Collected(rented);
    }

    [Fact]
    public void IdleObject_IsHeldByTheOpenPool_Control()
    {
        // The control: an object returned to an open pool is held (that is what a pool is for).
        using var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy());

        WeakReference idle = RentAndReturn(pool);

        GcAssert.Alive(idle);
    }

    [Fact]
    public void DisposedPool_LetsGoOfIdleObjects()
    {
        var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { SamplingRate = 1 });
        WeakReference idle = RentAndReturn(pool);

        pool.Dispose();

        GcAssert.Collected(idle);
        GC.KeepAlive(pool);
    }

    [Fact]
    public void Pool_DroppedWithObjectsOut_IsCollected()
    {
        var held = new List<PooledThing>();
        WeakReference pool = CreatePoolAndRent(held);

        GcAssert.Collected(pool);
        GC.KeepAlive(held);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference Rent(TrackedObjectPool<PooledThing> pool) => new(pool.Get());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RentAndReturn(TrackedObjectPool<PooledThing> pool)
    {
        PooledThing thing = pool.Get();
        pool.Return(thing);
        return new WeakReference(thing);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference CreatePoolAndRent(List<PooledThing> held)
    {
        var pool = new TrackedObjectPool<PooledThing>(new ThingPolicy(), new TrackedObjectPoolOptions { SamplingRate = 1 });
        held.Add(pool.Get());
        pool.Return(pool.Get());
        return new WeakReference(pool);
    }
}
