using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SafeMem.Events;

/// <summary>
/// Backs an event whose subscribers are held weakly, so a long-lived publisher does not keep its subscribers alive.
/// </summary>
/// <typeparam name="TEventArgs">The type of the event's data.</typeparam>
/// <remarks>
/// <para>
/// <b>What it holds.</b> Each subscription lives exactly as long as its subscriber, and does not keep it alive:
/// an instance-method handler lives as long as its instance; a lambda or local function that captures variables (a
/// compiler-generated closure) lives as long as the <c>this</c> it captured, or as the owner given to
/// <see cref="Add(object, EventHandler{TEventArgs})"/>; the closure and everything it captured are kept for exactly
/// that long too. A capturing lambda with no owner that can be found, and a method of a struct (whose delegate targets
/// a box of its own), are rejected with an <see cref="ArgumentException"/> (they would otherwise stop firing at the
/// next garbage collection); a subscriber that only has the event's <c>+=</c> can subscribe such a handler through
/// <see cref="WeakEventSubscription"/> with an explicit subscriber instead. Static methods
/// and non-capturing lambdas have no instance to die with: they are held strongly until removed. A weak subscription
/// still fires until the garbage collector actually collects its subscriber, which may be long after the program
/// last used it: code that must stop receiving events at a known moment should remove its handler. Subscriptions
/// whose subscriber was collected are purged on raises, amortized on adds, and after full collections on the thread
/// pool, so a source that is never raised still shrinks. A subscription is a 16-byte entry in the source's storage (no
/// object and no finalizer of its own) plus one <see cref="System.Runtime.DependentHandle"/>, cleared at once when
/// the subscription is removed or purged and freed once no raise can still read it (a source dropped without cleanup
/// frees its handles the same way).
/// </para>
/// <para>
/// <b>Raising.</b> <see cref="Raise"/> invokes the handlers outside any lock, on the raising thread, in subscription
/// order, without allocating. A raise iterates the subscriptions that existed when it started: one added during the
/// raise (by a handler or another thread) is not invoked by it. Unlike a multicast delegate, a removal takes effect at
/// once, even for a raise in flight: a handler removed by an earlier handler of the same raise is not invoked. A
/// handler may add or remove any subscription, itself included, and may raise again (reentrancy) without deadlock or
/// skipped handlers. A handler that throws does not stop the others: once all ran, the exception is rethrown as
/// thrown (one) or in an <see cref="AggregateException"/> (several), and each is counted as a handler failure.
/// </para>
/// <para>
/// <b>Removal.</b> <see cref="Remove"/> has the semantics of an event's <c>remove</c>: it removes the newest
/// subscription whose handler has the same target and method (a multicast delegate is added and removed part by part).
/// Adding and removing are O(1) amortized, however many subscriptions the source has.
/// </para>
/// <para>
/// <b>Thread-safety.</b> All members may be called concurrently. Adds and removes take a short lock; raises take no
/// lock (only to purge, when a raise met subscribers the GC collected).
/// </para>
/// <para>
/// <b>Disposal.</b> The source is not disposable: it owns no resource that outlives it, and its telemetry reports stop
/// when it is collected. <see cref="Clear"/> removes every subscription.
/// </para>
/// </remarks>
[DebuggerDisplay("{Name}: Count = {Count}")]
public sealed class WeakEventSource<TEventArgs>
{
    private readonly SubscriptionList _list;

    /// <summary>Initializes a new instance of the <see cref="WeakEventSource{TEventArgs}"/> class with a generated name (<c>event-1</c>, ...).</summary>
    public WeakEventSource()
        : this(new WeakEventSourceOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="WeakEventSource{TEventArgs}"/> class with a name.</summary>
    /// <param name="name">The name reported as the <c>safemem.name</c> tag and in statistics.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public WeakEventSource(string name)
        : this(new WeakEventSourceOptions { Name = name ?? throw new ArgumentNullException(nameof(name)) })
    {
    }

    /// <summary>Initializes a new instance of the <see cref="WeakEventSource{TEventArgs}"/> class with options.</summary>
    /// <param name="options">The options; copied, so later changes to them do not affect this source.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public WeakEventSource(WeakEventSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _list = SubscriptionList.Create(options);
    }

    /// <summary>Gets the source's name (the <c>safemem.name</c> tag).</summary>
    public string Name => _list.Name;

    /// <summary>
    /// Gets the number of live subscriptions. Subscriptions whose subscriber the garbage collector has collected are
    /// purged first, so this is O(n) in the subscriptions held.
    /// </summary>
    public int Count => _list.Count;

    /// <summary>Subscribes <paramref name="handler"/> for as long as its target lives (see the type's remarks).</summary>
    /// <param name="handler">The handler: an instance method, a lambda that captures <c>this</c>, a static method or a non-capturing lambda.</param>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="handler"/> is a closure that does not capture <c>this</c> (use <see cref="Add(object, EventHandler{TEventArgs})"/>),
    /// or a method of a struct.
    /// </exception>
    public void Add(EventHandler<TEventArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _list.AddHandler(handler, owner: null, hasOwner: false);
    }

    /// <summary>Subscribes <paramref name="handler"/> for as long as <paramref name="owner"/> lives.</summary>
    /// <param name="owner">The object whose lifetime the subscription shares; held weakly.</param>
    /// <param name="handler">The handler; held as long as <paramref name="owner"/> lives, whatever its target.</param>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> or <paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="owner"/> is a boxed value type (a copy nothing else references).</exception>
    public void Add(object owner, EventHandler<TEventArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(handler);
        _list.AddHandler(handler, owner, hasOwner: true);
    }

    /// <summary>Unsubscribes the newest subscription of a handler with the same target and method.</summary>
    /// <param name="handler">The handler to remove.</param>
    /// <returns><see langword="true"/> if a subscription was removed; <see langword="false"/> if none matched.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    public bool Remove(EventHandler<TEventArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _list.RemoveHandler(handler);
    }

    /// <summary>Removes every subscription.</summary>
    public void Clear() => _list.Clear();

    /// <summary>Invokes every live handler in subscription order (see the type's remarks).</summary>
    /// <param name="sender">The sender passed to the handlers.</param>
    /// <param name="e">The event data passed to the handlers.</param>
    /// <exception cref="Exception">The one exception a handler threw, rethrown after every handler ran.</exception>
    /// <exception cref="AggregateException">More than one handler threw; every handler still ran.</exception>
    public void Raise(object? sender, TEventArgs e)
    {
        SubscriptionList list = _list;
        list.Raises.Increment();

        // The generation, then its count, then its entries: see SubscriptionList's remarks.
        SubscriptionTable table = list.Current;
        int count = table.Count;
        SubscriptionTable.Entry[] entries = table.Entries;
        SynchronizationContext?[]? contexts = table.Contexts;
        Exception? first = null;
        List<Exception>? all = null;
        int withoutHandler = 0;
        for (int i = 0; i < count; i++)
        {
            // A concurrent removal may clear the handle between or during these reads; then the owner or the handler
            // reads null (a removal racing with a raise on another thread may let that raise invoke the handler one
            // last time, as with any event).
            (object? owner, object? handler) = entries[i].Handle.TargetAndDependent;
            if (owner is null || handler is null)
            {
                withoutHandler++;
                continue;
            }

            // Only EventHandler<TEventArgs> delegates are ever added to this list, so the unchecked cast is safe.
            var typed = Unsafe.As<EventHandler<TEventArgs>>(handler);
            try
            {
                SynchronizationContext? context = contexts?[i];
                if (context is not null && context != SynchronizationContext.Current)
                {
                    context.Post(PostedHandler.Callback, new PostedHandler(typed, sender, e, list));
                    continue;
                }

                typed(sender, e);
            }
            catch (Exception ex)
            {
                list.Failures.Increment();
                if (first is null)
                {
                    first = ex;
                }
                else
                {
                    (all ??= [first]).Add(ex);
                }
            }
        }

        // The generation's finalizer frees the handles read above: it must not run before the last read.
        GC.KeepAlive(table);
        if (withoutHandler > 0)
        {
            list.OnDeadSeen(withoutHandler);
        }

        if (first is not null)
        {
            SubscriptionList.ThrowHandlerFailures(first, all);
        }
    }

    /// <summary>Returns a snapshot of the source's figures.</summary>
    /// <returns>The same figures the source's instruments publish.</returns>
    public WeakEventStatistics GetStatistics() => new()
    {
        Name = _list.Name,
        Count = _list.Count,
        Reclamations = _list.Reclamations,
        Raises = _list.Raises.Sum(),
        HandlerFailures = _list.Failures.Sum(),
    };

    /// <summary>Gets the engine (for tests of purging and memory).</summary>
    internal SubscriptionList List => _list;

    private sealed class PostedHandler(EventHandler<TEventArgs> handler, object? sender, TEventArgs e, SubscriptionList list)
    {
        public static readonly SendOrPostCallback Callback = static state => ((PostedHandler)state!).Invoke();

        private void Invoke()
        {
            try
            {
                handler(sender, e);
            }
            catch
            {
                // Counted here, then left to the context: Raise has returned, so the context's unhandled-exception
                // handling is the only place that can report it (as for an async void method).
                list.Failures.Increment();
                throw;
            }
        }
    }
}
