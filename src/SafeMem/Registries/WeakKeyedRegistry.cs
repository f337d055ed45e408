using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using SafeMem.Internal;
using SafeMem.Telemetry;

namespace SafeMem.Registries;

/// <summary>
/// A map from objects, held weakly and compared by identity, to values that live exactly as long as their key; unlike
/// <see cref="Attachments.Attachment{TOwner, TValue}"/>, it is meant to be enumerated and counted ("every open session
/// and its statistics").
/// </summary>
/// <typeparam name="TKey">The type of the keys.</typeparam>
/// <typeparam name="TValue">The type of the values; value types and <see langword="null"/> values are supported.</typeparam>
/// <remarks>
/// <para>
/// <b>Keys are compared by identity.</b> Two distinct keys that are <see cref="object.Equals(object)"/> to each other
/// are two entries; <c>Equals</c> and <c>GetHashCode</c> overrides are ignored. For ordinary keys (ids, names) with
/// weakly held values, use <see cref="WeakValueRegistry{TKey, TValue}"/>.
/// </para>
/// <para>
/// <b>Held weakly:</b> every key. <b>Held strongly:</b> each value, but only while its key lives (an ephemeron, through
/// <see cref="System.Runtime.CompilerServices.ConditionalWeakTable{TKey, TValue}"/>): a value that refers back to its
/// key does not keep the key alive, and the pair is collected together. Nothing is ever disposed.
/// </para>
/// <para>
/// <b>Count and enumeration</b> walk the registry: O(n). They see an entry until the garbage collector has collected
/// its key (after <c>GC.Collect()</c> returns; no finalizer has to run). Enumeration covers the entries present when
/// it starts, skips those removed or collected since, never throws because of concurrent writes, and holds only the
/// current entry strongly. A value replaced during enumeration may be seen with its old or new value.
/// </para>
/// <para>
/// <b>Thread-safety:</b> every member is safe for concurrent use. Lookups are lock-free and allocation-free; writes
/// are serialized by one short lock per instance.
/// </para>
/// <para>
/// <b>Factories:</b> <c>GetOrAdd</c> runs its factory outside any lock, so when threads race on one key the factory may
/// run more than once; the first value stored wins, every caller gets it, and the others are dropped (not disposed). A
/// factory that throws stores nothing and the exception propagates. A factory that calls <c>GetOrAdd</c> for the same
/// key on the same instance gets an <see cref="InvalidOperationException"/>.
/// </para>
/// <para><b>Disposal:</b> the type is not <see cref="IDisposable"/>; its telemetry registration ends when it is collected.</para>
/// </remarks>
[DebuggerDisplay("Name = {Name}, Count = {Count}")]
public sealed class WeakKeyedRegistry<TKey, TValue> : IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : class
{
    private readonly EphemeronTable<TKey, TValue, RegistryKind> _table;

    /// <summary>Creates a registry with a generated name (<c>registry-1</c>, ...) that reports to the shared SafeMem meter.</summary>
    public WeakKeyedRegistry()
        : this(new RegistryOptions())
    {
    }

    /// <summary>Creates a registry with the given name that reports to the shared SafeMem meter.</summary>
    /// <param name="name">The <c>safemem.name</c> tag of this instance's measurements.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public WeakKeyedRegistry(string name)
        : this(new RegistryOptions { Name = name ?? throw new ArgumentNullException(nameof(name)) })
    {
    }

    /// <summary>Creates a registry with the given options.</summary>
    /// <param name="options">The settings; read once, at construction.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public WeakKeyedRegistry(RegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = InstanceNames.Resolve(options.Name, "registry");
        _table = new EphemeronTable<TKey, TValue, RegistryKind>(Name, options.MeterFactory);
    }

    /// <summary>Gets the instance name (the <c>safemem.name</c> tag).</summary>
    public string Name { get; }

    /// <summary>Gets the number of live entries. O(n): see the type's remarks for when it is exact.</summary>
    public int Count => _table.CountLive();

    /// <summary>Gets the value of <paramref name="key"/>, if it has one.</summary>
    /// <param name="key">The key; compared by identity.</param>
    /// <param name="value">The value, or <see langword="default"/> when there is none.</param>
    /// <returns><see langword="true"/> if <paramref name="key"/> has an entry.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _table.TryGetValue(key, out value);
    }

    /// <summary>Tells whether <paramref name="key"/> has an entry.</summary>
    /// <param name="key">The key; compared by identity.</param>
    /// <returns><see langword="true"/> if <paramref name="key"/> itself (not an equal object) has an entry.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool ContainsKey(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _table.ContainsKey(key);
    }

    /// <summary>Gets the value of <paramref name="key"/>, adding <paramref name="factory"/>'s result first if there is none.</summary>
    /// <param name="key">The key; compared by identity.</param>
    /// <param name="factory">Creates the value; may run more than once under a race (one result wins).</param>
    /// <returns>The value of <paramref name="key"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="factory"/> re-entered this method for the same key.</exception>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        // Look up first so a hit does not touch the adapter lambda below.
        return _table.TryGetValue(key, out TValue? value) ? value : _table.GetOrAdd(key, static (o, f) => f(o), factory);
    }

    /// <summary>
    /// Gets the value of <paramref name="key"/>, adding <paramref name="factory"/>'s result first if there is none; the
    /// state-passing overload, so the factory can be <see langword="static"/> and allocate no closure.
    /// </summary>
    /// <typeparam name="TArg">The type of the state passed to the factory.</typeparam>
    /// <param name="key">The key; compared by identity.</param>
    /// <param name="factory">Creates the value; may run more than once under a race (one result wins).</param>
    /// <param name="factoryArgument">Passed to <paramref name="factory"/>.</param>
    /// <returns>The value of <paramref name="key"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="factory"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="factory"/> re-entered this method for the same key.</exception>
    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg factoryArgument)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        return _table.GetOrAdd(key, factory, factoryArgument);
    }

    /// <summary>Sets the value of <paramref name="key"/>, adding the entry or replacing its value.</summary>
    /// <param name="key">The key; compared by identity.</param>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> if the entry is new, <see langword="false"/> if its value was replaced.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool Set(TKey key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _table.Set(key, value);
    }

    /// <summary>Removes the entry of <paramref name="key"/>.</summary>
    /// <param name="key">The key; compared by identity.</param>
    /// <returns><see langword="true"/> if there was an entry and it is now removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool Remove(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _table.Remove(key);
    }

    /// <summary>Removes every entry (each live one counts as a removal).</summary>
    public void Clear() => _table.Clear();

    /// <summary>Returns a snapshot of this instance's figures. O(n): the live count is a walk.</summary>
    /// <returns>The live count, additions, removals and reclamations.</returns>
    public RegistryStatistics GetStatistics() => RegistryStatistics.From(_table.Counters.Read());

    /// <summary>Enumerates the live entries. O(n); see the type's remarks for the guarantees under concurrent writes.</summary>
    /// <returns>An enumerator over the entries alive when it reaches them.</returns>
    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator() => _table.Entries().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
