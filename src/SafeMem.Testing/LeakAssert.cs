using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SafeMem.Diagnostics.Heap;
using SafeMem.Testing.Internal;

namespace SafeMem.Testing;

/// <summary>
/// Leak assertions for any test framework: an object, or the instances of a type an action creates, must become
/// collectable; when they do not, a <see cref="LeakException"/> names the type and the chains of references that
/// keep them alive, from a GC root (a static field, a GC handle, a stack local, the finalizer queue) to the object.
/// </summary>
/// <remarks>
/// <para>
/// <b>Deciding.</b> Whether an object is alive is decided by the garbage collector alone: up to
/// <see cref="LeakAssertOptions.MaxCollections"/> rounds of full, blocking, compacting collections with finalizers
/// run in between. The object is tracked through a weak handle that also tracks resurrection, so an object a
/// finalizer brings back counts as alive: the assertion never reports "collected" while the object is alive.
/// Anything the GC frees passes, including unreachable cycles and a <c>ConditionalWeakTable</c> value that refers
/// to its own key.
/// </para>
/// <para>
/// <b>Explaining.</b> Only a failure costs more: the process writes a dump of itself through its diagnostics server,
/// reads it with ClrMD, finds the shortest paths from the roots to the object, and deletes the dump (always, also on
/// failure). That takes about a second on a small heap (a 100 MB heap: see docs/performance.md). When the process
/// cannot dump itself (diagnostics disabled, an unsupported platform, no permission), the assertion still fails and
/// says that the path is unavailable and why. The message also says which kinds of root could not be fully inspected
/// (on Linux and macOS ClrMD's stack walk may miss locals).
/// </para>
/// <para>
/// <b>Thread-safety.</b> Every member may be called from parallel tests. Dumps are taken one at a time per process
/// (a failing assertion waits while another one explains itself); collections are process-wide, so parallel tests
/// make an assertion slower, never wrong. The type and predicate overloads count instances process-wide, so objects
/// of the same type created by a test running in parallel count too: use them with types only your test creates, or
/// in a non-parallel test collection.
/// </para>
/// <para>
/// <b>User code.</b> An exception thrown by <c>create</c>, the action or the predicate propagates unchanged and nothing
/// is asserted; no dump is left behind.
/// </para>
/// </remarks>
public static partial class LeakAssert
{
    /// <summary>
    /// Asserts that the object <paramref name="create"/> returns becomes collectable once the caller lets go of it.
    /// </summary>
    /// <param name="create">
    /// Builds the object and whatever should not retain it (subscribe it, cache it, start it), and returns it. It
    /// runs in a frame the JIT cannot keep alive, and only a weak handle to its result is kept.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="create"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="create"/> returned <see langword="null"/>, a boxed value type (the box is a fresh copy, so its
    /// fate says nothing about the value), or an object the runtime never frees (an interned string or literal, a
    /// frozen object such as a <c>typeof</c> result).
    /// </exception>
    /// <exception cref="LeakException">The object is still alive after the collections.</exception>
    public static void Collected(Func<object> create) => Collected(create, options: null);

    /// <summary>
    /// Asserts that the object <paramref name="create"/> returns becomes collectable once the caller lets go of it.
    /// </summary>
    /// <param name="create">Builds the object and returns it (see <see cref="Collected(Func{object})"/>).</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="create"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="create"/> returned <see langword="null"/>, a boxed value type or an object the runtime never frees.</exception>
    /// <exception cref="LeakException">The object is still alive after the collections.</exception>
    public static void Collected(Func<object> create, LeakAssertOptions? options)
    {
        ArgumentNullException.ThrowIfNull(create);
        options ??= new LeakAssertOptions();
        GCHandle handle = Track(create, out Type type);
        try
        {
            int rounds = FullCollection.Until(() => IsDead(handle), options.MaxCollections);
            if (IsDead(handle))
            {
                return;
            }

            LeakException? failure = LeakExplainer.ExplainHandle(GCHandle.ToIntPtr(handle), HeapTypeNames.FullName(type), rounds, options);
            if (failure is not null && !IsDead(handle))
            {
                throw failure;
            }
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>
    /// Asserts that the target of a weak reference becomes collectable: for tests that already track their object
    /// with a <see cref="WeakReference"/>, created where the test method's frame cannot keep it alive.
    /// </summary>
    /// <param name="reference">The weak reference; whether it tracks resurrection is kept (a short one counts an object waiting for its finalizer as collected).</param>
    /// <exception cref="ArgumentNullException"><paramref name="reference"/> is <see langword="null"/>.</exception>
    /// <exception cref="LeakException">The target is still alive after the collections.</exception>
    public static void Collected(WeakReference reference) => Collected(reference, options: null);

    /// <summary>Asserts that the target of a weak reference becomes collectable (see <see cref="Collected(WeakReference)"/>).</summary>
    /// <param name="reference">The weak reference.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="reference"/> is <see langword="null"/>.</exception>
    /// <exception cref="LeakException">The target is still alive after the collections.</exception>
    public static void Collected(WeakReference reference, LeakAssertOptions? options)
    {
        ArgumentNullException.ThrowIfNull(reference);
        options ??= new LeakAssertOptions();
        int rounds = FullCollection.Until(() => !reference.IsAlive, options.MaxCollections);
        if (!reference.IsAlive)
        {
            return;
        }

        // Explain through a handle of our own (the WeakReference's handle is private to it).
        GCHandle handle = Retrack(reference, out Type? type);
        try
        {
            if (type is null || IsDead(handle))
            {
                return;
            }

            LeakException? failure = LeakExplainer.ExplainHandle(GCHandle.ToIntPtr(handle), HeapTypeNames.FullName(type), rounds, options);
            if (failure is not null && reference.IsAlive)
            {
                throw failure;
            }
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>
    /// Asserts that no instance of <typeparamref name="T"/> (or of a type derived from or implementing it) created
    /// by <paramref name="action"/> survives it: after the action and full collections, the heap holds no more such
    /// instances than before it.
    /// </summary>
    /// <typeparam name="T">The type whose instances must not accumulate.</typeparam>
    /// <param name="action">The code under test. If it fills a cache or a pool on first use by design, run it once before asserting.</param>
    /// <remarks>
    /// Counts are taken from two dumps of the process (before and after; about a second each). An action that
    /// releases one old instance and keeps one new one leaves the count unchanged and passes: the assertion is about
    /// accumulation. Instances created by tests running in parallel count too.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The process could not dump itself, so instances cannot be counted (the message says why).</exception>
    /// <exception cref="LeakException">More instances are alive after the action than before.</exception>
    public static void Collected<T>(Action action)
        where T : class
        => Collected<T>(action, options: null);

    /// <summary>
    /// Asserts that no instance of <typeparamref name="T"/> created by <paramref name="action"/> survives it
    /// (see <see cref="Collected{T}(Action)"/>).
    /// </summary>
    /// <typeparam name="T">The type whose instances must not accumulate.</typeparam>
    /// <param name="action">The code under test.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The process could not dump itself (the message says why).</exception>
    /// <exception cref="LeakException">More instances are alive after the action than before.</exception>
    public static void Collected<T>(Action action, LeakAssertOptions? options)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(action);
        CollectedMatching(action, static o => o.Type is { } type && typeof(T).IsAssignableFrom(type), HeapTypeNames.FullName(typeof(T)), options);
    }

    /// <summary>
    /// Asserts that no object matching <paramref name="predicate"/> created by <paramref name="action"/> survives it:
    /// after the action and full collections, the heap holds no more matching objects than before it.
    /// </summary>
    /// <param name="action">The code under test.</param>
    /// <param name="predicate">Selects the objects that must not accumulate, e.g. <c>o =&gt; o.TypeName.StartsWith("MyApp.")</c>. Called once per object on the heap in each of two dumps.</param>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> or <paramref name="predicate"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The process could not dump itself (the message says why).</exception>
    /// <exception cref="LeakException">More matching objects are alive after the action than before.</exception>
    public static void Collected(Action action, Func<HeapObject, bool> predicate) => Collected(action, predicate, options: null);

    /// <summary>
    /// Asserts that no object matching <paramref name="predicate"/> created by <paramref name="action"/> survives it
    /// (see <see cref="Collected(Action, Func{HeapObject, bool})"/>).
    /// </summary>
    /// <param name="action">The code under test.</param>
    /// <param name="predicate">Selects the objects that must not accumulate.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> or <paramref name="predicate"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The process could not dump itself (the message says why).</exception>
    /// <exception cref="LeakException">More matching objects are alive after the action than before.</exception>
    public static void Collected(Action action, Func<HeapObject, bool> predicate, LeakAssertOptions? options)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(predicate);
        CollectedMatching(action, predicate, "objects matching the predicate", options);
    }

    private static void CollectedMatching(Action action, Func<HeapObject, bool> predicate, string what, LeakAssertOptions? options)
    {
        options ??= new LeakAssertOptions();
        int before;
        using (HeapSnapshot snapshot = TakeToCount(options))
        {
            before = snapshot.Count(predicate);
        }

        action();
        FullCollection.Until(static () => false, Math.Min(options.MaxCollections, 3));
        using HeapSnapshot after = TakeToCount(options);
        IReadOnlyList<HeapObject> survivors = after.FindObjects(predicate);
        int leaked = survivors.Count - before;
        if (leaked <= 0)
        {
            return;
        }

        string headline = $"{leaked} more instance{(leaked == 1 ? string.Empty : "s")} of {what} alive after the action than before it ({before} before, {survivors.Count} after).";
        throw options.ExplainFailures
            ? LeakExplainer.ExplainObjects(after, survivors.Select(o => o.Address), headline, what, leaked, options)
            : LeakExplainer.Unavailable(headline, what, leaked, "explaining failures is turned off (LeakAssertOptions.ExplainFailures)", null);
    }

    private static HeapSnapshot TakeToCount(LeakAssertOptions options)
    {
        try
        {
            return HeapSnapshot.Take(LeakExplainer.SnapshotOptions(options, collect: true));
        }
        catch (HeapSnapshotUnavailableException exception)
        {
            throw new InvalidOperationException($"Instances cannot be counted without a dump: {exception.Reason}.", exception);
        }
    }

    // Not inlined: the object must live only in this frame's registers and stack slots, which are dead once it
    // returns; a test method's own frame (and Debug code's extended lifetimes) never sees it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static GCHandle Track(Func<object> create, out Type type)
    {
        object? target = create();
        if (target is null)
        {
            throw new ArgumentException("create returned null: return the object whose lifetime the test checks.", nameof(create));
        }

        type = target.GetType();
        if (type.IsValueType)
        {
            throw new ArgumentException(
                $"create returned a boxed {type.Name}: a box is a fresh copy made for the call, so whether it is collected says nothing about the value. Return the reference-type object that holds the value.",
                nameof(create));
        }

        if (target is string text && ReferenceEquals(string.IsInterned(text), text))
        {
            throw new ArgumentException("create returned an interned string (a literal, or one passed to string.Intern): the runtime keeps it for the life of the process.", nameof(create));
        }

        if (GC.GetGeneration(target) == int.MaxValue)
        {
            throw new ArgumentException($"create returned a {type.Name} that lives on the runtime's frozen heap (like literals and typeof results): the runtime never frees it.", nameof(create));
        }

        return GCHandle.Alloc(target, GCHandleType.WeakTrackResurrection);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static GCHandle Retrack(WeakReference reference, out Type? type)
    {
        object? target = reference.Target;
        type = target?.GetType();
        return GCHandle.Alloc(target, GCHandleType.WeakTrackResurrection);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsDead(GCHandle handle) => handle.Target is null;
}
