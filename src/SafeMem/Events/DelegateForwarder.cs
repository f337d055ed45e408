namespace SafeMem.Events;

/// <summary>
/// The <see cref="WeakSubscriber{TSubscriber}"/> of an event of any delegate type: the handler on the source's event is
/// the delegate the user's factory built around this object, reaching the subscriber through <see cref="WeakSubscriber{TSubscriber}.Target"/>.
/// </summary>
internal sealed class DelegateForwarder<TSource, TSubscriber, TDelegate> : WeakSubscriber<TSubscriber>
    where TSource : class
    where TSubscriber : class
    where TDelegate : Delegate
{
    private readonly Action<TSource, TDelegate> _removeHandler;
    private TDelegate? _handler;

    public DelegateForwarder(TSource source, TSubscriber subscriber, Action<TSource, TDelegate> removeHandler)
        : base(source, subscriber)
    {
        _removeHandler = removeHandler;
    }

    /// <summary>
    /// Builds the handler with <paramref name="createHandler"/>, checks it, and adds it with <paramref name="addHandler"/>;
    /// leaves nothing behind if any step throws.
    /// </summary>
    public void Attach(
        TSource source,
        TSubscriber subscriber,
        Action<TSource, TDelegate> addHandler,
        Func<WeakSubscriber<TSubscriber>, TDelegate> createHandler)
    {
        try
        {
            TDelegate handler = createHandler(this) ?? throw new ArgumentException("The handler factory returned null.", nameof(createHandler));
            if (HandlerOwner.Captures(handler, subscriber))
            {
                throw new ArgumentException(
                    "The handler that createHandler built captures the subscriber, so the source would keep the subscriber "
                    + "alive through it. Reach the subscriber through the WeakSubscriber the factory is given instead, e.g. "
                    + "static weak => (sender, e) => weak.Target?.OnChanged(e).",
                    nameof(createHandler));
            }

            // One delegate instance for the subscription's whole life, so the one removed equals the one added.
            _handler = handler;
            addHandler(source, handler);
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    private protected override void RemoveFrom(object source) => _removeHandler((TSource)source, _handler!);
}
