namespace SafeMem.Events;

/// <summary>
/// The subscriber of one <see cref="WeakEventSubscription"/>, held weakly: the handler that the subscription puts on
/// the source's event reaches the subscriber through <see cref="Target"/>. Disposing it unsubscribes.
/// </summary>
/// <typeparam name="TSubscriber">The type of the subscriber.</typeparam>
/// <remarks>
/// <para>
/// <b>What it holds.</b> The subscriber and the source weakly (through GC handles, not finalizable objects); the
/// handler, the remove callback and what they captured strongly. The handler on the source's event holds this object;
/// nothing else does, unless you keep the token. A <see cref="WeakEventSource{TEventArgs}"/>, which holds its handlers
/// weakly, recognizes this object as a handler's target (or captured by a handler's closure) and ties the handler to
/// the subscriber, so the subscription lives exactly as long as the subscriber there too.
/// </para>
/// <para>
/// <b>Detaching.</b> The subscription leaves the source's event exactly once: on <see cref="Dispose"/>, when a read of
/// <see cref="Target"/> finds the subscriber collected (on the raising thread), or in the sweep that follows a full
/// garbage collection (on a thread-pool thread).
/// </para>
/// <para>
/// <b>Thread-safety.</b> All members may be called concurrently. Only SafeMem creates instances.
/// </para>
/// </remarks>
public abstract class WeakSubscriber<TSubscriber> : IWeakForwarder, IDisposable
    where TSubscriber : class
{
    private readonly WeakHandleBlock _handles;

    // The subscriber's handle is at _index, the source's at _index + 1, and this object's (for the sweeper) at _index + 2.
    private readonly int _index;
    private int _detached;

    private protected WeakSubscriber(object source, TSubscriber subscriber)
    {
        _handles = WeakHandleBlock.AllocateTriple(subscriber, source, this, out _index);
    }

    /// <summary>
    /// Gets the subscriber, or <see langword="null"/> once the garbage collector has collected it or the subscription
    /// was disposed. Reading <see langword="null"/> because the subscriber was collected detaches the subscription from
    /// the source (once, on the reading thread).
    /// </summary>
    /// <value>The subscriber while it lives and the subscription is attached; otherwise <see langword="null"/>.</value>
    public TSubscriber? Target
    {
        get
        {
            object? target = _handles.Get(_index);
            if (target is null)
            {
                // Leave the source's invocation list now, on the raising thread (removing a handler while the source
                // raises is safe for .NET events: the raise iterates an immutable delegate).
                Detach(rethrow: false);
                return null;
            }

            // Only a TSubscriber is ever stored in this handle.
            return System.Runtime.CompilerServices.Unsafe.As<TSubscriber>(target);
        }
    }

    /// <inheritdoc/>
    bool IWeakForwarder.IsDetached => Volatile.Read(ref _detached) != 0 || _handles.Get(_index + 1) is null;

    /// <inheritdoc/>
    bool IWeakForwarder.IsOrphaned => _handles.Get(_index) is null;

    /// <inheritdoc/>
    object? IWeakForwarder.Subscriber => _handles.Get(_index);

    /// <summary>Starts the sweeps that detach this subscription once the subscriber is collected.</summary>
    internal void Track() => ForwarderSweeper.Track(_handles, _index + 2);

    /// <summary>
    /// Unsubscribes from the source's event (idempotent): the handler no longer reaches the subscriber, even in a raise
    /// already in flight, and the source's remove callback runs once.
    /// </summary>
    /// <exception cref="Exception">The source's remove callback threw; the subscription is detached all the same.</exception>
    public void Dispose() => Detach(rethrow: true);

    /// <inheritdoc/>
    void IWeakForwarder.DetachQuietly() => Detach(rethrow: false);

    /// <summary>Marks the subscription detached without calling the remove callback (its add callback threw).</summary>
    private protected void Abandon()
    {
        Volatile.Write(ref _detached, 1);
        _handles.Clear(_index);
        _handles.Clear(_index + 1);
    }

    /// <summary>Removes this subscription's handler from <paramref name="source"/>'s event (the user's remove callback).</summary>
    private protected abstract void RemoveFrom(object source);

    private void Detach(bool rethrow)
    {
        // Exactly one caller wins the exchange, so a raise, a sweep and Dispose racing remove the handler once.
        if (Interlocked.Exchange(ref _detached, 1) != 0)
        {
            return;
        }

        // The subscriber first: from here on the handler reaches nothing, even in raises already in flight.
        _handles.Clear(_index);
        object? source = _handles.Get(_index + 1);
        _handles.Clear(_index + 1);
        if (source is null)
        {
            // The source was collected, with its invocation list.
            return;
        }

        try
        {
            RemoveFrom(source);
        }
        catch (Exception) when (!rethrow)
        {
            // Automatic detaching (on a raise or a sweep) has no caller to report to: a throwing remove callback
            // leaves this small, inert handler on the source's list. Dispose lets the exception through.
        }
    }
}
