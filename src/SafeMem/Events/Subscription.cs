using System.Runtime;
using System.Runtime.CompilerServices;

namespace SafeMem.Events;

/// <summary>
/// One handler subscribed to a <see cref="SubscriptionList"/>: held through a <see cref="DependentHandle"/> (the
/// handler lives exactly as long as its owner, and does not keep the owner alive) or, for handlers with no instance
/// to die with (static methods, non-capturing lambdas), strongly until removed.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="DependentHandle"/> is not finalizable, so this object frees it in its own finalizer. Removing the
/// subscription only clears the handle (the handler and its closure are released at once): it is freed when no
/// snapshot array can reach this object any more. Freeing it on removal instead would race with a raise that has
/// already read this subscription from its snapshot and is about to read the handle: a freed handle's slot can be
/// reused for another object, so the raise could read and invoke an unrelated object. The GC is the one party that
/// knows when no raise can still be reading it.
/// </para>
/// <para>
/// The index links (<see cref="Older"/>, <see cref="Newer"/>) and <see cref="IsRemoved"/> are read and written under
/// the list's lock only. <see cref="Handler"/> is read without a lock by raises.
/// </para>
/// </remarks>
internal sealed class Subscription
{
    private static long s_allocatedHandles;

    private DependentHandle _handle;
    private Delegate? _strong;

    public Subscription(Delegate handler, object? owner, SynchronizationContext? context)
    {
        Context = context;
        HashKey = handler.GetHashCode();
        if (owner is null)
        {
            _strong = handler;
            GC.SuppressFinalize(this);
        }
        else
        {
            _handle = new DependentHandle(owner, handler);
            Interlocked.Increment(ref s_allocatedHandles);
        }
    }

    ~Subscription()
    {
        if (_handle.IsAllocated)
        {
            _handle.Dispose();
            Interlocked.Decrement(ref s_allocatedHandles);
        }
    }

    /// <summary>Gets the number of dependent handles allocated and not yet freed, process-wide (for leak tests).</summary>
    internal static long AllocatedHandles => Volatile.Read(ref s_allocatedHandles);

    /// <summary>Gets the context the handler is delivered on, or <see langword="null"/> to invoke it inline.</summary>
    public SynchronizationContext? Context { get; }

    /// <summary>Gets the handler's <see cref="Delegate.GetHashCode"/>, the key of the list's removal index.</summary>
    /// <remarks>Equal delegates have equal hash codes, and the code is derived from the target's identity hash, so
    /// keying by it roots nothing.</remarks>
    public int HashKey { get; }

    /// <summary>Gets a value indicating whether the handler is held weakly (tied to an owner).</summary>
    public bool IsWeak => _handle.IsAllocated;

    /// <summary>Gets or sets the previous subscription with the same <see cref="HashKey"/> (older).</summary>
    public Subscription? Older { get; set; }

    /// <summary>Gets or sets the next subscription with the same <see cref="HashKey"/> (newer).</summary>
    public Subscription? Newer { get; set; }

    /// <summary>Gets a value indicating whether the subscription was removed, cleared or purged (under the list's lock).</summary>
    public bool IsRemoved { get; private set; }

    /// <summary>
    /// Gets the handler, or <see langword="null"/> when the subscription was removed or its owner was collected.
    /// Lock-free and allocation-free.
    /// </summary>
    public Delegate? Handler
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (!_handle.IsAllocated)
            {
                return Volatile.Read(ref _strong);
            }

            // A concurrent Release may clear the handle between or during these reads; both halves then read null,
            // or the target still alive and the handler (a removal racing with a raise on another thread may let that
            // raise invoke the handler one last time, as with any event).
            (object? owner, object? handler) = _handle.TargetAndDependent;

            // Keep this object (and so the handle) alive until the read above is done: a raise may hold the last
            // reference to it only through a snapshot array it no longer reads, and the finalizer frees the handle.
            GC.KeepAlive(this);

            // Only delegates are ever stored as the dependent, so the unchecked cast is safe.
            return owner is null ? null : Unsafe.As<Delegate>(handler);
        }
    }

    /// <summary>Gets a value indicating whether the handler can still run (not removed, owner not collected).</summary>
    public bool IsAlive => _handle.IsAllocated ? _handle.Target is not null : Volatile.Read(ref _strong) is not null;

    /// <summary>Marks the subscription removed and lets go of the handler at once. Call under the list's lock.</summary>
    public void Release()
    {
        IsRemoved = true;
        if (_handle.IsAllocated)
        {
            // Clearing (not freeing) the handle: see the type's remarks.
            _handle.Target = null;
            _handle.Dependent = null;
        }
        else
        {
            Volatile.Write(ref _strong, null);
        }
    }
}
