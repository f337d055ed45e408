using System.Collections.Specialized;
using System.ComponentModel;
using System.Windows.Input;

namespace SafeMem.Events;

/// <summary>
/// Subscribes weakly to an event that another object exposes (a plain .NET event of any delegate type, without the
/// source's cooperation), so the source does not keep the subscriber alive.
/// </summary>
/// <remarks>
/// <para>
/// <b>What it holds.</b> The source's event gets one small handler, whose target is a
/// <see cref="WeakSubscriber{TSubscriber}"/> (the returned token). It holds the subscriber and the source weakly
/// (through GC handles allocated in shared blocks: no finalizer per subscription), and the handler strongly. The
/// handler must not capture the subscriber, or the source would keep the subscriber alive through it: with the
/// <see cref="EventHandler{TEventArgs}"/> overloads it receives the subscriber as its first argument (write it as a
/// <c>static</c> lambda); with the overloads for any delegate type it reaches it through
/// <see cref="WeakSubscriber{TSubscriber}.Target"/>. A handler whose target is the subscriber, or a closure that
/// captured it, is rejected; it may capture anything else. The handler fires until the garbage collector actually
/// collects the subscriber. Then the subscription detaches itself from the source: on the source's next raise (on the
/// raising thread), or after the next full collection (on a thread-pool thread), so the source's invocation list does
/// not grow with dead subscribers even when it is never raised. On an event backed by a
/// <see cref="WeakEventSource{TEventArgs}"/> (which holds its handlers weakly) the handler is tied to the subscriber, so
/// the subscription lives exactly as long as the subscriber there too: this is how a subscriber that only has such an
/// event's <c>+=</c> subscribes a lambda that captures locals.
/// </para>
/// <para>
/// <b>Disposal.</b> The returned <see cref="IDisposable"/> detaches the handler from the source at once (even a raise
/// already in flight no longer reaches the subscriber); disposing it again, or after an automatic detach, does
/// nothing. Holding it does not keep the source or the subscriber alive. Dropping it without disposing is fine: the
/// subscription then lasts as long as the subscriber.
/// </para>
/// <para>
/// <b>User code that throws.</b> An exception from <c>addHandler</c> (or <c>createHandler</c>) propagates from
/// <c>Subscribe</c>, and nothing is left registered. An exception from the handler propagates to the source's raise,
/// as for any handler. An exception from <c>removeHandler</c> propagates from <see cref="IDisposable.Dispose"/>;
/// during an automatic detach it is swallowed (there is no caller to report to). Either way the subscription is
/// detached: the handler left on the source's list is inert.
/// </para>
/// <para>
/// <b>Thread-safety.</b> All members may be called concurrently; a raise, a sweep and <c>Dispose</c> racing call
/// <c>removeHandler</c> at most once. <c>removeHandler</c> may run on a thread-pool thread: sources with thread
/// affinity should be detached with <c>Dispose</c> on their own thread.
/// </para>
/// </remarks>
public static class WeakEventSubscription
{
    // The "source" of static events: always alive, so detaching always runs the remove callback.
    private static readonly object s_staticSource = new();

    /// <summary>Subscribes <paramref name="handler"/> weakly to an event of <paramref name="source"/>.</summary>
    /// <typeparam name="TSource">The type of the object that exposes the event.</typeparam>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <typeparam name="TEventArgs">The type of the event's data.</typeparam>
    /// <param name="source">The object that exposes the event; held weakly.</param>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="addHandler">Adds a handler to the event, e.g. <c>static (s, h) => s.Changed += h</c>. For events of another delegate type use the overload that takes <c>createHandler</c>.</param>
    /// <param name="removeHandler">Removes it, e.g. <c>static (s, h) => s.Changed -= h</c> (converted the same way as in <paramref name="addHandler"/>).</param>
    /// <param name="handler">Handles a raise, given the subscriber, the sender and the event data; must not capture the subscriber.</param>
    /// <returns>A token that unsubscribes when disposed.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handler"/> captures <paramref name="subscriber"/>.</exception>
    public static IDisposable Subscribe<TSource, TSubscriber, TEventArgs>(
        TSource source,
        TSubscriber subscriber,
        Action<TSource, EventHandler<TEventArgs>> addHandler,
        Action<TSource, EventHandler<TEventArgs>> removeHandler,
        Action<TSubscriber, object?, TEventArgs> handler)
        where TSource : class
        where TSubscriber : class
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(addHandler);
        ArgumentNullException.ThrowIfNull(removeHandler);
        ArgumentNullException.ThrowIfNull(handler);
        if (HandlerOwner.Captures(handler, subscriber))
        {
            throw new ArgumentException(
                "The handler captures the subscriber, so the source would keep the subscriber alive through it. Use the "
                + "subscriber passed as the handler's first argument instead, e.g. static (subscriber, sender, e) => subscriber.OnChanged(e).",
                nameof(handler));
        }

        var forwarder = new EventHandlerForwarder<TSource, TSubscriber, TEventArgs>(source, subscriber, removeHandler, handler);
        forwarder.Attach(source, addHandler);
        forwarder.Track();
        return forwarder;
    }

    /// <summary>
    /// Subscribes weakly to an event of any delegate type of <paramref name="source"/>: the handler is the delegate
    /// <paramref name="createHandler"/> builds, which reaches the subscriber through the <see cref="WeakSubscriber{TSubscriber}"/>
    /// it is given.
    /// </summary>
    /// <typeparam name="TSource">The type of the object that exposes the event.</typeparam>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <typeparam name="TDelegate">The event's delegate type, e.g. <see cref="PropertyChangedEventHandler"/> or a delegate of your own.</typeparam>
    /// <param name="source">The object that exposes the event; held weakly.</param>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="addHandler">Adds a handler to the event, e.g. <c>static (s, h) => s.PriceChanged += h</c>.</param>
    /// <param name="removeHandler">Removes it, e.g. <c>static (s, h) => s.PriceChanged -= h</c>.</param>
    /// <param name="createHandler">
    /// Builds the handler once, given the subscription's weak link to the subscriber, e.g.
    /// <c>static weak => (symbol, price) => weak.Target?.OnPrice(symbol, price)</c>. The handler must not capture the
    /// subscriber: it reaches it through <see cref="WeakSubscriber{TSubscriber}.Target"/>, which is
    /// <see langword="null"/> once the subscriber was collected (and then detaches the subscription).
    /// </param>
    /// <returns>A token that unsubscribes when disposed (the <see cref="WeakSubscriber{TSubscriber}"/> itself).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The handler <paramref name="createHandler"/> built is null or captures <paramref name="subscriber"/>.</exception>
    /// <remarks>
    /// Generic and free of reflection emit, so it works under trimming and Native AOT for any delegate type.
    /// </remarks>
    public static IDisposable Subscribe<TSource, TSubscriber, TDelegate>(
        TSource source,
        TSubscriber subscriber,
        Action<TSource, TDelegate> addHandler,
        Action<TSource, TDelegate> removeHandler,
        Func<WeakSubscriber<TSubscriber>, TDelegate> createHandler)
        where TSource : class
        where TSubscriber : class
        where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(addHandler);
        ArgumentNullException.ThrowIfNull(removeHandler);
        ArgumentNullException.ThrowIfNull(createHandler);
        var forwarder = new DelegateForwarder<TSource, TSubscriber, TDelegate>(source, subscriber, removeHandler);
        forwarder.Attach(source, subscriber, addHandler, createHandler);
        forwarder.Track();
        return forwarder;
    }

    /// <summary>
    /// Subscribes weakly to a static event of any delegate type: the handler is the delegate
    /// <paramref name="createHandler"/> builds, which reaches the subscriber through the
    /// <see cref="WeakSubscriber{TSubscriber}"/> it is given.
    /// </summary>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <typeparam name="TDelegate">The event's delegate type.</typeparam>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="addHandler">Adds a handler to the event, e.g. <c>static h => Prices.Changed += h</c>.</param>
    /// <param name="removeHandler">Removes it, e.g. <c>static h => Prices.Changed -= h</c>.</param>
    /// <param name="createHandler">Builds the handler once (see the instance-event overload); must not capture the subscriber.</param>
    /// <returns>A token that unsubscribes when disposed (the <see cref="WeakSubscriber{TSubscriber}"/> itself).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The handler <paramref name="createHandler"/> built is null or captures <paramref name="subscriber"/>.</exception>
    public static IDisposable Subscribe<TSubscriber, TDelegate>(
        TSubscriber subscriber,
        Action<TDelegate> addHandler,
        Action<TDelegate> removeHandler,
        Func<WeakSubscriber<TSubscriber>, TDelegate> createHandler)
        where TSubscriber : class
        where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(addHandler);
        ArgumentNullException.ThrowIfNull(removeHandler);
        return Subscribe<object, TSubscriber, TDelegate>(
            s_staticSource,
            subscriber,
            (_, h) => addHandler(h),
            (_, h) => removeHandler(h),
            createHandler);
    }

    /// <summary>Subscribes <paramref name="handler"/> weakly to a static event.</summary>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <typeparam name="TEventArgs">The type of the event's data.</typeparam>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="addHandler">Adds a handler to the event, e.g. <c>static h => Settings.Changed += h</c>.</param>
    /// <param name="removeHandler">Removes it, e.g. <c>static h => Settings.Changed -= h</c>.</param>
    /// <param name="handler">Handles a raise, given the subscriber, the sender and the event data; must not capture the subscriber.</param>
    /// <returns>A token that unsubscribes when disposed.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handler"/> captures <paramref name="subscriber"/>.</exception>
    public static IDisposable Subscribe<TSubscriber, TEventArgs>(
        TSubscriber subscriber,
        Action<EventHandler<TEventArgs>> addHandler,
        Action<EventHandler<TEventArgs>> removeHandler,
        Action<TSubscriber, object?, TEventArgs> handler)
        where TSubscriber : class
    {
        ArgumentNullException.ThrowIfNull(addHandler);
        ArgumentNullException.ThrowIfNull(removeHandler);
        return Subscribe<object, TSubscriber, TEventArgs>(
            s_staticSource,
            subscriber,
            (_, h) => addHandler(h),
            (_, h) => removeHandler(h),
            handler);
    }

    /// <summary>Subscribes <paramref name="handler"/> weakly to <see cref="INotifyPropertyChanged.PropertyChanged"/>.</summary>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <param name="source">The object that raises the event; held weakly.</param>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="handler">Handles a raise, given the subscriber, the sender and the event data; must not capture the subscriber.</param>
    /// <returns>A token that unsubscribes when disposed.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handler"/> captures <paramref name="subscriber"/>.</exception>
    public static IDisposable SubscribePropertyChanged<TSubscriber>(
        INotifyPropertyChanged source,
        TSubscriber subscriber,
        Action<TSubscriber, object?, PropertyChangedEventArgs> handler)
        where TSubscriber : class
        => Subscribe(
            source,
            subscriber,
            static (s, h) => s.PropertyChanged += h.Invoke,
            static (s, h) => s.PropertyChanged -= h.Invoke,
            handler);

    /// <summary>Subscribes <paramref name="handler"/> weakly to <see cref="INotifyCollectionChanged.CollectionChanged"/>.</summary>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <param name="source">The collection that raises the event; held weakly.</param>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="handler">Handles a raise, given the subscriber, the sender and the event data; must not capture the subscriber.</param>
    /// <returns>A token that unsubscribes when disposed.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handler"/> captures <paramref name="subscriber"/>.</exception>
    public static IDisposable SubscribeCollectionChanged<TSubscriber>(
        INotifyCollectionChanged source,
        TSubscriber subscriber,
        Action<TSubscriber, object?, NotifyCollectionChangedEventArgs> handler)
        where TSubscriber : class
        => Subscribe(
            source,
            subscriber,
            static (s, h) => s.CollectionChanged += h.Invoke,
            static (s, h) => s.CollectionChanged -= h.Invoke,
            handler);

    /// <summary>Subscribes <paramref name="handler"/> weakly to <see cref="ICommand.CanExecuteChanged"/>.</summary>
    /// <typeparam name="TSubscriber">The type of the subscriber, held weakly.</typeparam>
    /// <param name="source">The command that raises the event; held weakly.</param>
    /// <param name="subscriber">The subscriber; the subscription lasts as long as it lives.</param>
    /// <param name="handler">Handles a raise, given the subscriber, the sender and the event data; must not capture the subscriber.</param>
    /// <returns>A token that unsubscribes when disposed.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handler"/> captures <paramref name="subscriber"/>.</exception>
    public static IDisposable SubscribeCanExecuteChanged<TSubscriber>(
        ICommand source,
        TSubscriber subscriber,
        Action<TSubscriber, object?, EventArgs> handler)
        where TSubscriber : class
        => Subscribe(
            source,
            subscriber,
            static (s, h) => s.CanExecuteChanged += h.Invoke,
            static (s, h) => s.CanExecuteChanged -= h.Invoke,
            handler);
}
