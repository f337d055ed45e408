using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SafeMem.Events;

/// <summary>
/// Backs an event with asynchronous handlers (<c>async Task Handler(object? sender, TEventArgs e)</c>) whose
/// subscribers are held weakly, so a long-lived publisher does not keep its subscribers alive.
/// </summary>
/// <typeparam name="TEventArgs">The type of the event's data.</typeparam>
/// <remarks>
/// <para>
/// <b>What it holds</b>, <b>removal</b>, <b>thread-safety</b> and <b>disposal</b> are exactly as for
/// <see cref="WeakEventSource{TEventArgs}"/>: each subscription lives as long as its handler's instance, the
/// <c>this</c> its closure captured, or the owner given to <see cref="Add(object, Func{object?, TEventArgs, Task})"/>;
/// static and non-capturing handlers are held strongly until removed; a capturing lambda with no owner, and a method
/// of a struct, are rejected.
/// </para>
/// <para>
/// <b>Raising.</b> <see cref="RaiseAsync"/> invokes the handlers one after another in subscription order, awaiting
/// each handler's task before starting the next, outside any lock (sequential, like a synchronous event, so handlers
/// can rely on ordering and never run concurrently with each other). It iterates the subscriptions that existed when
/// it started; removals take effect at once. The awaits do not leave the caller's
/// <see cref="SynchronizationContext"/>, so every handler starts on the context <see cref="RaiseAsync"/> was called
/// on. A handler that throws, or whose task faults or is cancelled, does not stop the others: once all completed,
/// the returned task faults with that one exception or with an <see cref="AggregateException"/> of several, and each
/// is counted as a handler failure. With <see cref="WeakEventSourceOptions.CaptureSynchronizationContext"/>, a handler
/// is started on the context captured when it subscribed, and <see cref="RaiseAsync"/> awaits its completion there.
/// </para>
/// </remarks>
[DebuggerDisplay("{Name}: Count = {Count}")]
public sealed class AsyncWeakEventSource<TEventArgs>
{
    private readonly SubscriptionList _list;

    /// <summary>Initializes a new instance of the <see cref="AsyncWeakEventSource{TEventArgs}"/> class with a generated name (<c>event-1</c>, ...).</summary>
    public AsyncWeakEventSource()
        : this(new WeakEventSourceOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AsyncWeakEventSource{TEventArgs}"/> class with a name.</summary>
    /// <param name="name">The name reported as the <c>safemem.name</c> tag and in statistics.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public AsyncWeakEventSource(string name)
        : this(new WeakEventSourceOptions { Name = name ?? throw new ArgumentNullException(nameof(name)) })
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AsyncWeakEventSource{TEventArgs}"/> class with options.</summary>
    /// <param name="options">The options; copied, so later changes to them do not affect this source.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public AsyncWeakEventSource(WeakEventSourceOptions options)
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
    /// <paramref name="handler"/> is a closure that does not capture <c>this</c> (use <see cref="Add(object, Func{object?, TEventArgs, Task})"/>),
    /// or a method of a struct.
    /// </exception>
    public void Add(Func<object?, TEventArgs, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _list.AddHandler(handler, owner: null, hasOwner: false);
    }

    /// <summary>Subscribes <paramref name="handler"/> for as long as <paramref name="owner"/> lives.</summary>
    /// <param name="owner">The object whose lifetime the subscription shares; held weakly.</param>
    /// <param name="handler">The handler; held as long as <paramref name="owner"/> lives, whatever its target.</param>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> or <paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="owner"/> is a boxed value type (a copy nothing else references).</exception>
    public void Add(object owner, Func<object?, TEventArgs, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(handler);
        _list.AddHandler(handler, owner, hasOwner: true);
    }

    /// <summary>Unsubscribes the newest subscription of a handler with the same target and method.</summary>
    /// <param name="handler">The handler to remove.</param>
    /// <returns><see langword="true"/> if a subscription was removed; <see langword="false"/> if none matched.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    public bool Remove(Func<object?, TEventArgs, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _list.RemoveHandler(handler);
    }

    /// <summary>Removes every subscription.</summary>
    public void Clear() => _list.Clear();

    /// <summary>Invokes every live handler in subscription order, awaiting each in turn (see the type's remarks).</summary>
    /// <param name="sender">The sender passed to the handlers.</param>
    /// <param name="e">The event data passed to the handlers.</param>
    /// <returns>
    /// A task that completes when every handler has completed; it faults with the one handler exception, or with an
    /// <see cref="AggregateException"/> when several handlers failed.
    /// </returns>
    public Task RaiseAsync(object? sender, TEventArgs e)
    {
        SubscriptionList list = _list;
        list.Raises.Increment();
        SubscriptionTable table = list.Current;
        return table.Count == 0 ? Task.CompletedTask : RaiseCoreAsync(list, table, sender, e);
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

    private static async Task RaiseCoreAsync(SubscriptionList list, SubscriptionTable table, object? sender, TEventArgs e)
    {
        // The generation, then its count, then its entries: see SubscriptionList's remarks. The state machine holds
        // the generation across the awaits, so its finalizer cannot free the handles while this raise reads them.
        int count = table.Count;
        SubscriptionTable.Entry[] entries = table.Entries;
        SynchronizationContext?[]? contexts = table.Contexts;
        Exception? first = null;
        List<Exception>? all = null;
        int withoutHandler = 0;
        for (int i = 0; i < count; i++)
        {
            (object? owner, object? handler) = entries[i].Handle.TargetAndDependent;
            if (owner is null || handler is null)
            {
                withoutHandler++;
                continue;
            }

            // Only Func<object?, TEventArgs, Task> delegates are ever added to this list, so the unchecked cast is safe.
            var typed = Unsafe.As<Func<object?, TEventArgs, Task>>(handler);
            try
            {
                SynchronizationContext? context = contexts?[i];
                Task? task = context is not null && context != SynchronizationContext.Current
                    ? PostedHandler.Start(context, typed, sender, e)
                    : typed(sender, e);

                // A handler that returns null instead of a task is treated as having completed synchronously.
                if (task is not null)
                {
                    await task;
                }
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

    private sealed class PostedHandler(Func<object?, TEventArgs, Task> handler, object? sender, TEventArgs e)
    {
        private static readonly SendOrPostCallback s_callback = static state => _ = ((PostedHandler)state!).RunAsync();

        // Continuations run asynchronously so the context's thread is not used to resume the raise.
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static Task Start(SynchronizationContext context, Func<object?, TEventArgs, Task> handler, object? sender, TEventArgs e)
        {
            var posted = new PostedHandler(handler, sender, e);
            context.Post(s_callback, posted);
            return posted._completion.Task;
        }

        private async Task RunAsync()
        {
            // Runs on the captured context, and its awaits stay there, as the handler's own code expects.
            try
            {
                Task? task = handler(sender, e);
                if (task is not null)
                {
                    await task;
                }

                _completion.TrySetResult();
            }
            catch (OperationCanceledException ex)
            {
                _completion.TrySetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                // Not lost: the raise awaiting this completion rethrows it with the other handlers' failures.
                _completion.TrySetException(ex);
            }
        }
    }
}
