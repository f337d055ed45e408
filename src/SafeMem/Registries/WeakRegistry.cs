using System.Collections;
using System.Diagnostics;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Registries;

/// <summary>
/// A set of objects that knows which of its members are still alive and never keeps one alive: the leak-free
/// replacement for a global <c>static List&lt;Connection&gt;</c> of "everything currently open".
/// </summary>
/// <typeparam name="T">The type of the members.</typeparam>
/// <remarks>
/// <para>
/// <b>Members are compared by identity.</b> Two distinct objects that are <see cref="object.Equals(object)"/> to each
/// other are two members; <c>Equals</c> and <c>GetHashCode</c> overrides are ignored.
/// </para>
/// <para>
/// <b>Held weakly:</b> every member. <b>Held strongly:</b> nothing. A member the rest of the program no longer
/// references is collected normally and leaves the registry by itself (built on
/// <see cref="System.Runtime.CompilerServices.ConditionalWeakTable{TKey, TValue}"/>).
/// </para>
/// <para>
/// <b>Count and enumeration</b> walk the registry: O(n). They see a member until the garbage collector has collected
/// it (after <c>GC.Collect()</c> returns; no finalizer has to run), so an object nobody references any more is still
/// counted and enumerated until a collection runs. Enumeration covers the members present when it starts, skips
/// those removed or collected since, never throws because of concurrent writes, and holds only the current member
/// strongly: it does not pin the whole registry while it runs.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. <see cref="Contains"/> is lock-free; writes are
/// serialized by one short lock per instance.
/// </para>
/// <para>
/// <b>Disposal and user code:</b> the type is not <see cref="IDisposable"/> (its telemetry registration ends when it
/// is collected) and runs no user code.
/// </para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}")]
public sealed class WeakRegistry<T> : IEnumerable<T>
    where T : class
{
    private readonly EphemeronTable<T, bool, RegistryKind> _table;

    /// <summary>Creates a registry with a generated name (<c>registry-1</c>, ...) that reports to the shared SafeMem meter.</summary>
    public WeakRegistry()
        : this(new RegistryOptions())
    {
    }

    /// <summary>Creates a registry with the given name that reports to the shared SafeMem meter.</summary>
    /// <param name="name">The <c>safemem.name</c> tag of this instance's measurements.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public WeakRegistry(string name)
        : this(new RegistryOptions { Name = name ?? throw new ArgumentNullException(nameof(name)) })
    {
    }

    /// <summary>Creates a registry with the given options.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public WeakRegistry(RegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = InstanceNames.Resolve(options.Name, "registry");
        _table = new EphemeronTable<T, bool, RegistryKind>(Name, options.MeterFactory);
    }

    /// <summary>Gets the instance name (the <c>safemem.name</c> tag).</summary>
    public string Name { get; }

    /// <summary>Gets the number of live members. O(n): see the type's remarks for when it is exact.</summary>
    public int Count => _table.CountLive();

    /// <summary>Adds <paramref name="item"/> unless it is already a member.</summary>
    /// <param name="item">The object; compared by identity.</param>
    /// <returns><see langword="true"/> if it was added, <see langword="false"/> if it was already a member.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is null.</exception>
    public bool Add(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return _table.TryAddPresence(item);
    }

    /// <summary>Removes <paramref name="item"/>.</summary>
    /// <param name="item">The object; compared by identity.</param>
    /// <returns><see langword="true"/> if it was a member and is now removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is null.</exception>
    public bool Remove(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return _table.Remove(item);
    }

    /// <summary>Tells whether <paramref name="item"/> is a member.</summary>
    /// <param name="item">The object; compared by identity.</param>
    /// <returns><see langword="true"/> if <paramref name="item"/> itself (not an equal object) is a member.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is null.</exception>
    public bool Contains(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return _table.ContainsKey(item);
    }

    /// <summary>Removes every member (each live one counts as a removal).</summary>
    public void Clear() => _table.Clear();

    /// <summary>Returns a snapshot of this instance's figures. O(n): the live count is a walk.</summary>
    /// <returns>The live count, additions, removals and reclamations.</returns>
    public RegistryStatistics GetStatistics() => RegistryStatistics.From(_table.Counters.Read());

    /// <summary>Enumerates the live members. O(n); see the type's remarks for the guarantees under concurrent writes.</summary>
    /// <returns>An enumerator over the members alive when it reaches them.</returns>
    public IEnumerator<T> GetEnumerator() => _table.Keys().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
