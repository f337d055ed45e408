using System.Runtime.CompilerServices;
using SafeMem.Internal;
using SafeMem.Tests.Infrastructure;

namespace SafeMem.Tests.Internal;

public sealed class GcNotificationTests
{
    [Fact]
    public void Register_FullCollections_CallBackWhileTargetLives()
    {
        var target = new Counter();
        GcNotification.Register(target, static t => { Interlocked.Increment(ref t.Calls); return true; });

        for (int i = 0; i < 4; i++)
        {
            GcAssert.FullCollect();
        }

        Assert.True(Volatile.Read(ref target.Calls) >= 2, $"Called back {target.Calls} times after 4 full collections.");
    }

    [Fact]
    public void Register_CallbackReturnsFalse_StopsCallingBack()
    {
        var target = new Counter();
        GcNotification.Register(target, static t => { Interlocked.Increment(ref t.Calls); return false; });

        for (int i = 0; i < 4; i++)
        {
            GcAssert.FullCollect();
        }

        Assert.Equal(1, Volatile.Read(ref target.Calls));
    }

    [Fact]
    public void Register_DoesNotKeepTargetAlive()
    {
        WeakReference weak = RegisterDropped();

        Assert.True(GcAssert.TryCollect(weak));
    }

    [Fact]
    public void Register_ThrowingCallback_KeepsCallingBack()
    {
        var target = new Counter();
        GcNotification.Register(target, static t =>
        {
            Interlocked.Increment(ref t.Calls);
            throw new InvalidOperationException("boom");
        });

        for (int i = 0; i < 4; i++)
        {
            GcAssert.FullCollect();
        }

        Assert.True(Volatile.Read(ref target.Calls) >= 2);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RegisterDropped()
    {
        var target = new Counter();
        GcNotification.Register(target, static _ => true);
        return new WeakReference(target);
    }

    private sealed class Counter
    {
        public int Calls;
    }
}
