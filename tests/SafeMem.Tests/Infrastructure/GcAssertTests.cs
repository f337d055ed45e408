using System.Runtime.CompilerServices;

namespace SafeMem.Tests.Infrastructure;

public sealed class GcAssertTests
{
    [Fact]
    public void TryCollect_UnreferencedObject_ReturnsTrue()
    {
        WeakReference weak = GcAssert.Track(() => new byte[1024]);

        Assert.True(GcAssert.TryCollect(weak));
    }

    [Fact]
    public void TryCollect_StronglyHeldObject_ReturnsFalse()
    {
        // The control: if the helper reported held objects as collected, every leak test would pass vacuously.
        var held = new object();
        var weak = new WeakReference(held);

        Assert.False(GcAssert.TryCollect(weak, attempts: 3));
        GC.KeepAlive(held);
    }

    [Fact]
    public void TryCollect_ObjectReachableOnlyFromStaticRoot_ReturnsFalse()
    {
        WeakReference weak = AddToStaticRoot();

        Assert.False(GcAssert.TryCollect(weak, attempts: 3));
        s_root.Clear();
        Assert.True(GcAssert.TryCollect(weak));
    }

    [Fact]
    public void Collected_ObjectReachableFromStaticRoot_FailureNamesTheRetentionPath()
    {
        WeakReference weak = AddToStaticRoot();
        try
        {
            var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => GcAssert.Collected(weak));

            Assert.Contains("Expected object #0 to be collected", failure.Message);
            Assert.Contains("static field SafeMem.Tests.Infrastructure.GcAssertTests.s_root", failure.Message);
        }
        finally
        {
            s_root.Clear();
        }

        GcAssert.Collected(weak);
    }

    [Fact]
    public void TryCollect_ObjectWithFinalizer_IsCollectedAfterFinalization()
    {
        WeakReference weak = GcAssert.Track(() => new Finalizable());

        Assert.True(GcAssert.TryCollect(weak));
    }

    private static readonly List<object> s_root = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddToStaticRoot()
    {
        var value = new object();
        s_root.Add(value);
        return new WeakReference(value);
    }

    private sealed class Finalizable
    {
        ~Finalizable()
        {
        }
    }
}
