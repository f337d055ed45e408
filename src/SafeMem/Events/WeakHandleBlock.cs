using System.Runtime.InteropServices;

namespace SafeMem.Events;

/// <summary>
/// Weak GC handles for <see cref="WeakSubscriber{TSubscriber}"/>s, allocated three at a time in blocks of 96 that free
/// their handles in one finalizer, so a weak subscription costs no finalizable object of its own.
/// </summary>
/// <remarks>
/// A <see cref="WeakReference{T}"/> to the subscriber, to the source and (for the sweeper) to the forwarder itself
/// would put three finalizable objects on every subscription, which every garbage collection then pays for while the
/// subscription lives. A handle here is freed only when its block is collected, and everything that reads a slot (the
/// forwarder, the sweeper's entry) references the block, so no read can be in flight on a freed handle. A slot is
/// never reused: a block lives as long as its longest-lived subscription, so in the worst case (one survivor per
/// block) a live subscription pins 93 cleared handles of its neighbours; cleared weak handles cost the collector next
/// to nothing. Each thread fills a block of its own, so allocating slots takes no lock; other threads only read slots
/// published to them through the forwarder or the sweeper's (locked) list.
/// </remarks>
internal sealed class WeakHandleBlock
{
    private const int Size = 96;

    [ThreadStatic]
    private static WeakHandleBlock? t_current;

    private static long s_live;

    private readonly GCHandle[] _handles = new GCHandle[Size];
    private int _used;

    private WeakHandleBlock()
    {
        Interlocked.Increment(ref s_live);
    }

    ~WeakHandleBlock()
    {
        for (int i = 0; i < _used; i++)
        {
            _handles[i].Free();
        }

        Interlocked.Decrement(ref s_live);
    }

    /// <summary>Gets the number of blocks not yet finalized, process-wide (for leak tests).</summary>
    internal static long Live => Volatile.Read(ref s_live);

    /// <summary>
    /// Allocates three adjacent weak handles, to <paramref name="first"/> (at the returned index),
    /// <paramref name="second"/> and <paramref name="third"/> (the next two), in the calling thread's current block.
    /// </summary>
    public static WeakHandleBlock AllocateTriple(object first, object second, object third, out int index)
    {
        WeakHandleBlock? block = t_current;
        if (block is null || block._used > Size - 3)
        {
            t_current = block = new WeakHandleBlock();
        }

        // Each handle is counted as soon as it exists, so an allocation failure leaves the finalizer what to free.
        index = block._used;
        block._handles[index] = GCHandle.Alloc(first, GCHandleType.Weak);
        block._used = index + 1;
        block._handles[index + 1] = GCHandle.Alloc(second, GCHandleType.Weak);
        block._used = index + 2;
        block._handles[index + 2] = GCHandle.Alloc(third, GCHandleType.Weak);
        block._used = index + 3;
        return block;
    }

    /// <summary>Gets the object handle <paramref name="index"/> refers to, or null once collected or cleared.</summary>
    public object? Get(int index)
    {
        object? target = _handles[index].Target;

        // The block (whose finalizer frees the handle) must outlive the read, even if the caller drops it meanwhile.
        GC.KeepAlive(this);
        return target;
    }

    /// <summary>Makes handle <paramref name="index"/> refer to nothing (it stays allocated until the block dies).</summary>
    public void Clear(int index)
    {
        _handles[index].Target = null;
        GC.KeepAlive(this);
    }
}
