using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.ExceptionServices;

namespace SafeMem.Disposal;

/// <summary>
/// Owns disposables and cleanup callbacks and disposes them, in reverse order of addition, when the scope ends: one
/// <c>Dispose</c> for everything a request, a connection or a view opened, so nothing is forgotten.
/// </summary>
/// <remarks>
/// <para>
/// <b>Held strongly:</b> every item, until the scope is disposed or the item is removed, and its
/// <see cref="DisposalScopeOptions.LeakTracker"/> (for its children) until disposal begins; after disposal the scope
/// holds nothing (its item list is cleared, it lets go of its tracker, and a disposed child lets go of its parent and
/// vice versa). <b>Held weakly:</b>
/// nothing. A scope that is dropped without being disposed never disposes its items; give it a
/// <see cref="DisposalScopeOptions.LeakTracker"/> to have that reported.
/// </para>
/// <para>
/// <b>Disposal</b> runs every item once, last added first, and continues past items that throw; afterwards it throws
/// the one exception (with its original stack) or an <see cref="AggregateException"/> of all of them, in disposal
/// order. <see cref="DisposeAsync"/> awaits <see cref="IAsyncDisposable"/> items (preferring <c>DisposeAsync</c> when
/// an item has both) and <see cref="Func{ValueTask}"/> callbacks. <b>Synchronous <see cref="Dispose"/> of an async-only
/// item</b> (an <see cref="IAsyncDisposable"/> that is not <see cref="IDisposable"/>, or a <see cref="Func{ValueTask}"/>
/// callback) calls it and, if it does not complete at once, blocks until it does: never a silent skip, but a possible
/// deadlock on a single-threaded synchronization context; use <see cref="DisposeAsync"/> for scopes that own such items.
/// </para>
/// <para>
/// <b>Edge cases:</b> disposing again, or concurrently, returns at once (the first call disposes; a concurrent second
/// call may return before the first finished). Disposing the scope from inside one of its own items' disposal is such a
/// second call and returns at once. An item added after disposal began (also from inside an item's disposal) is
/// disposed at once, on the adding thread, and <c>Add</c> returns it (its exception, if any, propagates from
/// <c>Add</c>). An item added twice is owned once and disposed once, at its first position; reference types are compared
/// by reference, boxed value types (e.g. a <see cref="CancellationTokenRegistration"/>) by <c>Equals</c>. Callbacks are
/// never merged: each <c>Add</c> of a callback runs it once. <see cref="Remove"/> hands an item back undisposed.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. <c>Add</c>, <see cref="Remove"/> and the start of
/// disposal take a short spin lock (no user code runs under it); items are disposed outside it, on the disposing thread.
/// </para>
/// <para>
/// <b>Telemetry</b> is counted per name, not per instance (scopes are created per unit of work; a series per instance
/// would grow without bound): <c>safemem.scope.count</c> (open scopes), <c>safemem.scope.disposals</c> and
/// <c>safemem.scope.failures</c>, tagged <c>safemem.name</c>; <see cref="GetStatistics"/> gives the same figures.
/// </para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}, IsDisposed = {IsDisposed}")]
public sealed class DisposalScope : IDisposable, IAsyncDisposable
{
    private const int StateOpen = 0;
    private const int StateDisposing = 1;
    private const int StateDisposed = 2;

    private readonly ScopeGroup _group;
    private readonly ItemList _items;
    private LeakTracker? _tracker;
    private readonly IMeterFactory? _meterFactory;
    private readonly LeakHandle _leak;
    private DisposalScope? _parent;
    private int _gate;
    private int _state;

    /// <summary>Creates a scope named <c>scope</c> that reports to the shared SafeMem meter.</summary>
    public DisposalScope()
        : this(null, null, null, null)
    {
    }

    /// <summary>Creates a scope with the given name that reports to the shared SafeMem meter.</summary>
    /// <param name="name">The name its figures are counted under (the <c>safemem.name</c> tag); a fixed name per kind of scope.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public DisposalScope(string name)
        : this(RequireName(name), null, null, null)
    {
    }

    /// <summary>Creates a scope with the given options.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public DisposalScope(DisposalScopeOptions options)
        : this(NotNull(options).Name, options.LeakTracker, options.MeterFactory, null)
    {
    }

    private DisposalScope(string? name, LeakTracker? tracker, IMeterFactory? meterFactory, DisposalScope? parent)
    {
        Name = name ?? "scope";
        _tracker = tracker;
        _meterFactory = meterFactory;
        _parent = parent;
        _items = new ItemList(Name);
        _group = ScopeGroup.For(meterFactory, Name);
        _group.OpenedAndEnded.IncrementFirst();
        if (tracker is not null && tracker.Sample())
        {
            // The record refers to the item list, not to the scope, so it does not keep the scope alive.
            _leak = new LeakHandle(tracker.CreateRecord(typeof(DisposalScope), _items));
        }
    }

    /// <summary>Gets the scope's name.</summary>
    public string Name { get; }

    /// <summary>Gets the number of items the scope owns now (0 once disposal began).</summary>
    public int Count => Volatile.Read(ref _items.Count);

    /// <summary>Gets a value indicating whether disposal has begun.</summary>
    public bool IsDisposed => Volatile.Read(ref _state) != StateOpen;

    /// <summary>
    /// Adds an <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/> item for the scope to dispose; if the scope is
    /// disposed already, disposes the item at once.
    /// </summary>
    /// <typeparam name="T">The item's type: a disposable class or struct (a struct is boxed).</typeparam>
    /// <param name="item">The item; adding one the scope already owns changes nothing (see the type's remarks).</param>
    /// <returns><paramref name="item"/>, so <c>var stream = scope.Add(new FileStream(...));</c> reads naturally.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="item"/> is neither <see cref="IDisposable"/> nor <see cref="IAsyncDisposable"/>.</exception>
    public T Add<T>(T item)
    {
        if (item is null)
        {
            ThrowArgumentNull(nameof(item));
        }

        object target = item;
        if (target is not (IDisposable or IAsyncDisposable))
        {
            throw new ArgumentException(
                $"A {TypeNames.Of(target.GetType())} is neither IDisposable nor IAsyncDisposable. For a cleanup callback use Add(Action) or Add(Func<ValueTask>).",
                nameof(item));
        }

        if (!TryAppend(target))
        {
            DisposeNow(target);
        }

        return item;
    }

    /// <summary>Adds a callback to run when the scope is disposed; if it is disposed already, runs the callback at once.</summary>
    /// <param name="callback">The callback; adding the same delegate twice runs it twice.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public void Add(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (!TryAppend(callback))
        {
            DisposeNow(callback);
        }
    }

    /// <summary>
    /// Adds an asynchronous callback to run when the scope is disposed (awaited by <see cref="DisposeAsync"/>; see the
    /// type's remarks for <see cref="Dispose"/>); if the scope is disposed already, runs it at once and waits for it.
    /// </summary>
    /// <param name="callback">The callback; adding the same delegate twice runs it twice.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public void Add(Func<ValueTask> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (!TryAppend(callback))
        {
            DisposeNow(callback);
        }
    }

    /// <summary>
    /// Creates a scope that this scope owns: disposed with it (in its place in the reverse order), or earlier by its own
    /// <c>Dispose</c>, after which this scope no longer holds it. The child takes this scope's leak tracker and meter.
    /// </summary>
    /// <param name="name">The child's name (its figures are counted under it).</param>
    /// <returns>The new, open child scope.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="ObjectDisposedException">This scope is disposed.</exception>
    public DisposalScope CreateChild(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var child = new DisposalScope(name, Volatile.Read(ref _tracker), _meterFactory, this);
        if (!TryAppend(child))
        {
            // Disposal began between the check and the append.
            child._parent = null;
            child.Dispose();
            ObjectDisposedException.ThrowIf(true, this);
        }

        return child;
    }

    /// <summary>Hands an item back to the caller: the scope stops owning it and does not dispose it.</summary>
    /// <param name="item">The item (or callback) to remove; compared as in <c>Add</c>. For a callback added more than once, the last addition is removed.</param>
    /// <returns><see langword="true"/> if the scope owned the item; <see langword="false"/> if not, or if disposal has begun.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is null.</exception>
    public bool Remove(object item)
    {
        ArgumentNullException.ThrowIfNull(item);
        Enter();
        try
        {
            return _state == StateOpen && _items.Remove(item);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Returns the figures of every scope with this scope's name (on its meter).</summary>
    /// <returns>The figures; see <see cref="DisposalScopeStatistics"/>.</returns>
    public DisposalScopeStatistics GetStatistics() => _group.Snapshot();

    /// <summary>
    /// Disposes every item once, last added first; see the type's remarks for async-only items, exceptions and
    /// concurrent calls.
    /// </summary>
    /// <exception cref="AggregateException">More than one item threw (all of them, in disposal order).</exception>
    public void Dispose()
    {
        if (!TryBeginDispose(out int count))
        {
            return;
        }

        List<Exception>? errors = null;
        int ran = 0;
        try
        {
            for (int i = count - 1; i >= 0; i--)
            {
                object item = _items.Take(i);
                ran++;
                try
                {
                    DisposeItem(item);
                }
                catch (Exception ex)
                {
                    (errors ??= []).Add(ex);
                }
            }
        }
        finally
        {
            EndDispose(ran, errors?.Count ?? 0);
        }

        ThrowIfAny(errors);
    }

    /// <summary>
    /// Disposes every item once, last added first, awaiting asynchronous items and callbacks; see the type's remarks
    /// for exceptions and concurrent calls.
    /// </summary>
    /// <returns>A task that completes when every item was disposed.</returns>
    /// <exception cref="AggregateException">More than one item threw (all of them, in disposal order).</exception>
    public async ValueTask DisposeAsync()
    {
        if (!TryBeginDispose(out int count))
        {
            return;
        }

        List<Exception>? errors = null;
        int ran = 0;
        try
        {
            for (int i = count - 1; i >= 0; i--)
            {
                object item = _items.Take(i);
                ran++;
                try
                {
                    await DisposeItemAsync(item).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    (errors ??= []).Add(ex);
                }
            }
        }
        finally
        {
            EndDispose(ran, errors?.Count ?? 0);
        }

        ThrowIfAny(errors);
    }

    /// <inheritdoc/>
    public override string ToString() => $"DisposalScope '{Name}': {Count} items{(IsDisposed ? ", disposed" : string.Empty)}";

    private static DisposalScopeOptions NotNull(DisposalScopeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options;
    }

    private static string RequireName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return name;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowArgumentNull(string name) => throw new ArgumentNullException(name);

    private static void ThrowIfAny(List<Exception>? errors)
    {
        if (errors is null)
        {
            return;
        }

        if (errors.Count == 1)
        {
            ExceptionDispatchInfo.Throw(errors[0]);
        }

        throw new AggregateException("More than one item of the disposal scope threw while it was disposed.", errors);
    }

    // The kind of an item is its type: a delegate is never disposable, so the checks below cannot confuse an item with
    // a callback, and the list stores bare references (half the memory of storing a kind beside each).
    private static bool IsCallback(object item) => item is Delegate;

    private static void DisposeItem(object item)
    {
        switch (item)
        {
            case IDisposable disposable:
                disposable.Dispose();
                break;
            case IAsyncDisposable asyncDisposable:
                Wait(asyncDisposable.DisposeAsync());
                break;
            case Action callback:
                callback();
                break;
            case Func<ValueTask> asyncCallback:
                Wait(asyncCallback());
                break;
        }
    }

    private static ValueTask DisposeItemAsync(object item)
    {
        switch (item)
        {
            case IAsyncDisposable asyncDisposable:
                return asyncDisposable.DisposeAsync();
            case IDisposable disposable:
                disposable.Dispose();
                return default;
            case Action callback:
                callback();
                return default;
            default:
                return ((Func<ValueTask>)item)();
        }
    }

    private static void Wait(ValueTask task)
    {
        // Documented sync-over-async (see the type's remarks): only when the async disposal did not complete at once.
        if (task.IsCompletedSuccessfully)
        {
            task.GetAwaiter().GetResult();
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
    }

    private void DisposeNow(object target)
    {
        // The scope has ended: the item is disposed here, once, and counted like the scope's own items.
        _group.DisposalsAndFailures.IncrementFirst();
        try
        {
            DisposeItem(target);
        }
        catch
        {
            _group.DisposalsAndFailures.IncrementSecond();
            throw;
        }
    }

    private bool TryAppend(object target)
    {
        Enter();
        try
        {
            if (_state != StateOpen)
            {
                return false;
            }

            _items.Add(target);
            return true;
        }
        finally
        {
            Exit();
        }
    }

    private bool TryBeginDispose(out int count)
    {
        Enter();
        try
        {
            // Exactly once: the first caller moves the state on; concurrent and re-entrant callers see it moved.
            if (_state != StateOpen)
            {
                count = 0;
                return false;
            }

            _state = StateDisposing;

            // In the same step: from now on the scope owns nothing (Count reads 0, also from inside an item's
            // disposal), and the disposing thread owns the items it is about to dispose.
            count = _items.BeginDisposal();
        }
        finally
        {
            Exit();
        }

        // Disposal began, so the scope is not a leak, whatever its items do; and it creates no more children, so it
        // lets go of its tracker (a disposed scope must not keep a tracker alive).
        _leak.Dispose();
        _tracker = null;
        return true;
    }

    private void EndDispose(int ran, int failures)
    {
        // No writer touches the list once the state left Open, so it is cleared without the lock: the scope lets go.
        _items.Clear();
        Volatile.Write(ref _state, StateDisposed);
        _group.OpenedAndEnded.IncrementSecond();
        _group.DisposalsAndFailures.AddFirst(ran);
        if (failures > 0)
        {
            _group.DisposalsAndFailures.AddSecond(failures);
        }

        // Most scopes have no parent: the read spares them an interlocked exchange.
        if (Volatile.Read(ref _parent) is not null)
        {
            DisposalScope? parent = Interlocked.Exchange(ref _parent, null);
            parent?.Remove(this);
        }
    }

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _gate, 1, 0) != 0)
        {
            EnterContended();
        }
    }

    private void EnterContended()
    {
        // The lock guards a few stores (no user code), so spinning is cheaper than a kernel wait; SpinWait yields and
        // then sleeps if the holder was descheduled.
        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce();
        }
        while (Interlocked.CompareExchange(ref _gate, 1, 0) != 0);
    }

    private void Exit() => Volatile.Write(ref _gate, 0);

    /// <summary>
    /// The scope's items, kept apart from the scope so a leak record can describe them without keeping the scope alive.
    /// Written only under the scope's lock while the scope is open, and by the disposing thread after.
    /// </summary>
    private sealed class ItemList : ILeakDetail
    {
        // Past this many items, duplicates are found through a hash set instead of a scan.
        private const int IndexThreshold = 16;
        private const int DescribedItems = 8;

        private readonly string _scopeName;
        private object[] _entries = [];
        private HashSet<object>? _index;

        public ItemList(string scopeName) => _scopeName = scopeName;

        // Read without the lock by Count and by a leak record's finalizer (when the scope is unreachable, so no writer).
        public int Count;

        public bool IsLeak => Volatile.Read(ref Count) > 0;

        public void Add(object target)
        {
            bool isCallback = IsCallback(target);
            if (!isCallback && Contains(target))
            {
                return;
            }

            if (Count == _entries.Length)
            {
                Array.Resize(ref _entries, Math.Max(4, _entries.Length * 2));
            }

            _entries[Count] = target;
            if (!isCallback)
            {
                if (_index is not null)
                {
                    _index.Add(target);
                }
                else if (Count + 1 >= IndexThreshold)
                {
                    BuildIndex();
                }
            }

            Volatile.Write(ref Count, Count + 1);
        }

        public bool Remove(object target)
        {
            for (int i = Count - 1; i >= 0; i--)
            {
                if (Same(_entries[i], target))
                {
                    Array.Copy(_entries, i + 1, _entries, i, Count - i - 1);
                    _entries[Count - 1] = null!;
                    Volatile.Write(ref Count, Count - 1);
                    if (!IsCallback(target))
                    {
                        _index?.Remove(target);
                    }

                    return true;
                }
            }

            return false;
        }

        /// <summary>Disposal begins (under the scope's lock): returns how many items there are, and counts none from now on.</summary>
        public int BeginDisposal()
        {
            int count = Count;
            Volatile.Write(ref Count, 0);
            return count;
        }

        public object Take(int index)
        {
            object item = _entries[index];
            // Let go of each item as soon as it is disposed.
            _entries[index] = null!;
            return item;
        }

        public void Clear()
        {
            _entries = [];
            _index = null;
            Volatile.Write(ref Count, 0);
        }

        public string? Describe()
        {
            int count = Volatile.Read(ref Count);
            object[] entries = _entries;
            var names = new List<string>();
            for (int i = 0; i < Math.Min(count, Math.Min(entries.Length, DescribedItems)); i++)
            {
                names.Add(IsCallback(entries[i]) ? "a callback" : TypeNames.Of(entries[i].GetType()));
            }

            string more = count > DescribedItems ? ", ..." : string.Empty;
            return $"disposal scope '{_scopeName}' was dropped undisposed while it owned {count} item(s), which were never disposed: {string.Join(", ", names)}{more}";
        }

        public void OnLeaked()
        {
            // The tracker counts the leak; the scope stays counted as open, which is what it is to its owner.
        }

        private static bool Same(object a, object b)
            => ReferenceEquals(a, b) || (a.GetType().IsValueType && a.Equals(b));

        private bool Contains(object target)
        {
            if (_index is not null)
            {
                return _index.Contains(target);
            }

            bool byValue = target.GetType().IsValueType;
            for (int i = 0; i < Count; i++)
            {
                object existing = _entries[i];
                // A callback never equals an item (delegates are not disposable), so no kind check is needed.
                if (ReferenceEquals(existing, target) || (byValue && target.Equals(existing)))
                {
                    return true;
                }
            }

            return false;
        }

        private void BuildIndex()
        {
            _index = new HashSet<object>(SameComparer.Instance);
            for (int i = 0; i <= Count; i++)
            {
                if (!IsCallback(_entries[i]))
                {
                    _index.Add(_entries[i]);
                }
            }
        }
    }

    private sealed class SameComparer : IEqualityComparer<object>
    {
        public static readonly SameComparer Instance = new();

        public new bool Equals(object? x, object? y)
            => ReferenceEquals(x, y) || (x is not null && y is not null && x.GetType().IsValueType && x.Equals(y));

        public int GetHashCode(object obj)
            => obj.GetType().IsValueType ? obj.GetHashCode() : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }
}
