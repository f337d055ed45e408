namespace SafeMem.Events;

/// <summary>
/// The <see cref="WeakSubscriber{TSubscriber}"/> of an <see cref="EventHandler{TEventArgs}"/> event: its own method is
/// the handler on the source's event, and it forwards each raise to a handler given the subscriber.
/// </summary>
/// <remarks>
/// The handler must not capture the subscriber, which <see cref="WeakEventSubscription"/> checks.
/// </remarks>
internal sealed class EventHandlerForwarder<TSource, TSubscriber, TEventArgs> : WeakSubscriber<TSubscriber>
    where TSource : class
    where TSubscriber : class
{
    private readonly Action<TSubscriber, object?, TEventArgs> _handler;
    private readonly Action<TSource, EventHandler<TEventArgs>> _removeHandler;

    public EventHandlerForwarder(
        TSource source,
        TSubscriber subscriber,
        Action<TSource, EventHandler<TEventArgs>> removeHandler,
        Action<TSubscriber, object?, TEventArgs> handler)
        : base(source, subscriber)
    {
        _handler = handler;
        _removeHandler = removeHandler;

        // One delegate instance for the forwarder's whole life, so the one removed equals the one added.
        Handler = Forward;
    }

    /// <summary>Gets the delegate registered on the source's event.</summary>
    public EventHandler<TEventArgs> Handler { get; }

    /// <summary>Subscribes: runs the user's add callback, or leaves nothing behind if it throws.</summary>
    public void Attach(TSource source, Action<TSource, EventHandler<TEventArgs>> addHandler)
    {
        try
        {
            addHandler(source, Handler);
        }
        catch
        {
            // Nothing was registered (or the source is responsible for what it half-registered): make sure the
            // forwarder never calls removeHandler and is never tracked, then let the caller see the exception.
            Abandon();
            throw;
        }
    }

    private protected override void RemoveFrom(object source) => _removeHandler((TSource)source, Handler);

    private void Forward(object? sender, TEventArgs e)
    {
        if (Target is { } subscriber)
        {
            _handler(subscriber, sender, e);
        }
    }
}
