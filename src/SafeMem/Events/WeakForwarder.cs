namespace SafeMem.Events;

/// <summary>
/// The small delegate target a <see cref="WeakEventSubscription"/> registers on someone else's event: it holds the
/// subscriber weakly, forwards each raise to a handler that is given the subscriber, and detaches itself from the
/// source once the subscriber is collected.
/// </summary>
/// <remarks>
/// The source's event holds this forwarder strongly (through <see cref="Handler"/>); the forwarder holds the
/// subscriber and the source weakly, and the handler strongly (it must not capture the subscriber, which
/// <see cref="WeakEventSubscription"/> checks). Detaching happens once (an interlocked exchange of the remove
/// callback): on <see cref="Dispose"/>, on the first raise after the subscriber was collected, or in a sweep.
/// </remarks>
internal sealed class WeakForwarder<TSource, TSubscriber, TEventArgs> : IWeakForwarder, IDisposable
    where TSource : class
    where TSubscriber : class
{
    private readonly WeakReference<TSubscriber> _subscriber;
    private readonly WeakReference<TSource> _source;
    private readonly Action<TSubscriber, object?, TEventArgs> _handler;
    private Action<TSource, EventHandler<TEventArgs>>? _removeHandler;

    public WeakForwarder(
        TSource source,
        TSubscriber subscriber,
        Action<TSource, EventHandler<TEventArgs>> removeHandler,
        Action<TSubscriber, object?, TEventArgs> handler)
    {
        _subscriber = new WeakReference<TSubscriber>(subscriber);
        _source = new WeakReference<TSource>(source);
        _handler = handler;
        _removeHandler = removeHandler;

        // One delegate instance for the forwarder's whole life, so the one removed equals the one added.
        Handler = Forward;
    }

    /// <summary>Gets the delegate registered on the source's event.</summary>
    public EventHandler<TEventArgs> Handler { get; }

    public bool IsDetached => Volatile.Read(ref _removeHandler) is null;

    public bool IsOrphaned => !_subscriber.TryGetTarget(out _);

    /// <summary>Unsubscribes from the source (idempotent); an exception from the remove callback propagates.</summary>
    public void Dispose() => Detach(rethrow: true);

    public void DetachQuietly() => Detach(rethrow: false);

    /// <summary>Marks the forwarder detached without calling the remove callback (its add callback threw).</summary>
    public void Abandon() => Volatile.Write(ref _removeHandler, null);

    private void Forward(object? sender, TEventArgs e)
    {
        if (_subscriber.TryGetTarget(out TSubscriber? subscriber))
        {
            _handler(subscriber, sender, e);
            return;
        }

        // The subscriber is gone: leave the source's invocation list now, on the raising thread (removing a handler
        // while the source raises is safe for .NET events: the raise iterates an immutable delegate).
        DetachQuietly();
    }

    private void Detach(bool rethrow)
    {
        // Exactly one caller wins the exchange, so a raise, a sweep and Dispose racing remove the handler once.
        Action<TSource, EventHandler<TEventArgs>>? remove = Interlocked.Exchange(ref _removeHandler, null);
        if (remove is null || !_source.TryGetTarget(out TSource? source))
        {
            // Already detached, or the source itself was collected (with its invocation list).
            return;
        }

        try
        {
            remove(source, Handler);
        }
        catch (Exception) when (!rethrow)
        {
            // Automatic detaching (on a raise or a sweep) has no caller to report to: a throwing remove callback
            // leaves this small forwarder registered but inert. Dispose lets the exception through.
        }
    }
}
