using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Attachments;

/// <summary>
/// Attaches a value to an object without extending the object's life: the leak-free replacement for a
/// <c>static Dictionary&lt;Control, Metadata&gt;</c> side table.
/// </summary>
/// <typeparam name="TOwner">The type of the objects values are attached to.</typeparam>
/// <typeparam name="TValue">The attached value; value types and <see langword="null"/> values are supported.</typeparam>
/// <remarks>
/// <para>
/// <b>Keys are compared by identity.</b> Two distinct owners that are <see cref="object.Equals(object)"/> to each other
/// get separate attachments; <c>Equals</c> and <c>GetHashCode</c> overrides are ignored. A value is attached to one
/// object, not to whatever equals it.
/// </para>
/// <para>
/// <b>Held weakly:</b> every owner. <b>Held strongly:</b> each value, but only for as long as its owner lives (an
/// ephemeron, through <see cref="ConditionalWeakTable{TKey, TValue}"/>): once the owner is unreachable from anywhere
/// else, the garbage collector collects the owner and its value together, even when the value refers back to its
/// owner. Nothing is ever disposed: a dropped value is simply collected.
/// </para>
/// <para>
/// <b>Count</b> is not stored (the runtime tells no one when it drops an entry), so <see cref="Count"/> and
/// <see cref="GetStatistics"/> walk the table: O(n). The count is exact for the moment it is taken once the GC has
/// collected the dead owners (after <c>GC.Collect()</c> returns; no finalizer has to run); until a collection runs,
/// an owner nobody references any more is still counted.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. Lookups are lock-free and allocation-free; writes
/// are serialized by one short lock per instance (the table's own writes are serialized anyway).
/// </para>
/// <para>
/// <b>Factories:</b> <c>GetOrAdd</c> runs its factory outside any lock, so when threads race to attach to the same
/// owner, the factory may run more than once; the first value stored wins, every caller gets it and the others are
/// dropped (not disposed). A factory that throws stores nothing and the exception propagates to the caller. A factory
/// that calls <c>GetOrAdd</c> for the same owner on the same instance gets an <see cref="InvalidOperationException"/>.
/// </para>
/// <para>
/// <b>Disposal:</b> the type is not <see cref="IDisposable"/>: it holds no resources, and its telemetry registration
/// ends when it is collected. A typical instance is a <c>static readonly</c> field.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// static readonly Attachment&lt;Control, ToolTipState&gt; s_toolTips = new("tooltips");
/// ToolTipState state = s_toolTips.GetOrAdd(control, static c =&gt; new ToolTipState(c));
/// </code>
/// </example>
[DebuggerDisplay("Name = {Name}, Count = {Count}")]
public sealed class Attachment<TOwner, TValue>
    where TOwner : class
{
    private readonly EphemeronTable<TOwner, TValue, AttachmentKind> _table;

    /// <summary>Creates an attachment with a generated name (<c>attachment-1</c>, ...) that reports to the shared SafeMem meter.</summary>
    public Attachment()
        : this(new AttachmentOptions())
    {
    }

    /// <summary>Creates an attachment with the given name that reports to the shared SafeMem meter.</summary>
    /// <param name="name">The <c>safemem.name</c> tag of this instance's measurements.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public Attachment(string name)
        : this(new AttachmentOptions { Name = name ?? throw new ArgumentNullException(nameof(name)) })
    {
    }

    /// <summary>Creates an attachment with the given options.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public Attachment(AttachmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = InstanceNames.Resolve(options.Name, "attachment");
        _table = new EphemeronTable<TOwner, TValue, AttachmentKind>(Name, options.MeterFactory);
    }

    /// <summary>Gets the instance name (the <c>safemem.name</c> tag).</summary>
    public string Name { get; }

    /// <summary>Gets the number of live attachments. O(n): see the type's remarks for when it is exact.</summary>
    public int Count => _table.CountLive();

    /// <summary>Gets the value attached to <paramref name="owner"/>, if there is one.</summary>
    /// <param name="owner">The object; compared by identity.</param>
    /// <param name="value">The attached value, or <see langword="default"/> when there is none.</param>
    /// <returns><see langword="true"/> if a value is attached to <paramref name="owner"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(TOwner owner, [MaybeNullWhen(false)] out TValue value)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return _table.TryGetValue(owner, out value);
    }

    /// <summary>Gets the value attached to <paramref name="owner"/>, attaching <paramref name="factory"/>'s result first if there is none.</summary>
    /// <param name="owner">The object; compared by identity.</param>
    /// <param name="factory">Creates the value; may run more than once under a race (one result wins). See the type's remarks.</param>
    /// <returns>The value attached to <paramref name="owner"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="factory"/> re-entered this method for the same owner.</exception>
    public TValue GetOrAdd(TOwner owner, Func<TOwner, TValue> factory)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(factory);
        // Look up first so a hit does not touch the adapter lambda below.
        return _table.TryGetValue(owner, out TValue? value) ? value : _table.GetOrAdd(owner, static (o, f) => f(o), factory);
    }

    /// <summary>
    /// Gets the value attached to <paramref name="owner"/>, attaching <paramref name="factory"/>'s result first if there
    /// is none; the state-passing overload, so the factory can be <see langword="static"/> and allocate no closure.
    /// </summary>
    /// <typeparam name="TArg">The type of the state passed to the factory.</typeparam>
    /// <param name="owner">The object; compared by identity.</param>
    /// <param name="factory">Creates the value; may run more than once under a race (one result wins).</param>
    /// <param name="factoryArgument">Passed to <paramref name="factory"/>.</param>
    /// <returns>The value attached to <paramref name="owner"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="factory"/> re-entered this method for the same owner.</exception>
    public TValue GetOrAdd<TArg>(TOwner owner, Func<TOwner, TArg, TValue> factory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(factory);
        return _table.GetOrAdd(owner, factory, factoryArgument);
    }

    /// <summary>Attaches <paramref name="value"/> to <paramref name="owner"/>, replacing any value attached before.</summary>
    /// <param name="owner">The object; compared by identity.</param>
    /// <param name="value">The value to attach.</param>
    /// <returns><see langword="true"/> if the attachment is new, <see langword="false"/> if it replaced one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> is null.</exception>
    public bool Set(TOwner owner, TValue value)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return _table.Set(owner, value);
    }

    /// <summary>Detaches the value from <paramref name="owner"/>.</summary>
    /// <param name="owner">The object; compared by identity.</param>
    /// <returns><see langword="true"/> if a value was attached and is now removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> is null.</exception>
    public bool Remove(TOwner owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return _table.Remove(owner);
    }

    /// <summary>Returns a snapshot of this instance's figures. O(n): the live count is a walk.</summary>
    /// <returns>The live count, additions, removals and reclamations.</returns>
    public AttachmentStatistics GetStatistics()
        => AttachmentStatistics.From(_table.Counters.Read());
}
