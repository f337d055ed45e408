using System.Runtime.CompilerServices;
using SafeMem.Testing;

namespace SafeMem.Tests.Infrastructure;

/// <summary>
/// Makes GC-based leak tests reliable: objects are created and used only inside non-inlined helpers (so no JIT-
/// extended local in the test method keeps them alive, which Debug builds and tier-0 code otherwise do), and
/// collection is repeated, full, blocking and compacting, with pending finalizers run, until the reference dies or
/// a bounded number of attempts is spent.
/// </summary>
public static class GcAssert
{
    /// <summary>How many full collections to try before declaring an object alive.</summary>
    public const int DefaultAttempts = 8;

    /// <summary>Creates an object inside a non-inlined frame and returns only a weak reference to it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static WeakReference Track(Func<object> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        return new WeakReference(create());
    }

    /// <summary>Runs full, blocking, compacting collections (with finalizers) until the reference dies.</summary>
    /// <returns><see langword="true"/> if the target was collected within <paramref name="attempts"/> tries.</returns>
    public static bool TryCollect(WeakReference reference, int attempts = DefaultAttempts)
    {
        ArgumentNullException.ThrowIfNull(reference);
        for (int i = 0; i < attempts && reference.IsAlive; i++)
        {
            FullCollect();
            if (reference.IsAlive && i >= 2)
            {
                // Give finalizer-driven cleanup (and anything it schedules) a moment before the next pass.
                Thread.Sleep(10 * i);
            }
        }

        return !reference.IsAlive;
    }

    /// <summary>One full, blocking, compacting collection, then pending finalizers, then another collection.</summary>
    public static void FullCollect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>
    /// Asserts that every reference's target is collected. A passing call costs what <see cref="TryCollect"/> costs;
    /// a failing one dumps the process (SafeMem.Testing's <see cref="LeakAssert"/>) and prints what retains the object.
    /// </summary>
    public static void Collected(params WeakReference[] references)
    {
        var options = new LeakAssertOptions { MaxCollections = DefaultAttempts };
        for (int i = 0; i < references.Length; i++)
        {
            try
            {
                LeakAssert.Collected(references[i], options);
            }
            catch (LeakException failure)
            {
                Assert.Fail($"Expected object #{i} to be collected, but it is still reachable.\n{failure.Message}");
            }
        }
    }

    /// <summary>Asserts that the target survives full collections (the control side of a leak test).</summary>
    public static void Alive(WeakReference reference)
    {
        Assert.False(TryCollect(reference, attempts: 3), "Expected the object to stay alive, but it was collected.");
    }
}
