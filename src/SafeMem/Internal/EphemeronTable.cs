using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace SafeMem.Internal;

/// <summary>
/// The engine behind <c>Attachment</c>, <c>WeakRegistry</c> and <c>WeakKeyedRegistry</c>: a
/// <see cref="ConditionalWeakTable{TKey, TValue}"/> of boxed values, with serialized writes (so additions and removals
/// are counted exactly), a re-entrancy check for factories, and counters.
/// </summary>
/// <remarks>
/// <para>
/// Keys are held weakly and compared by identity (<see cref="ConditionalWeakTable{TKey, TValue}"/> uses
/// <see cref="RuntimeHelpers.GetHashCode(object)"/> and reference equality). Each value sits in an immutable box that
/// the table holds through a dependent handle: the box lives exactly as long as its key, and a value that refers back
/// to its key does not keep it alive (an ephemeron).
/// </para>
/// <para>
/// Reads are lock-free (the table's own lock-free lookup). Writes take one lock per table, which the table's own
/// write lock would serialize anyway; it makes "does the key exist, then add/remove and count" atomic. Factories
/// run outside that lock so a slow factory blocks no one: two threads may both run the factory for one key, one
/// value wins and both callers return it.
/// </para>
/// <para>
/// <see cref="Set"/> replaces the box rather than writing into it, so a reader never sees a torn value-type value.
/// </para>
/// </remarks>
internal sealed class EphemeronTable<TKey, TValue, TKind>
    where TKey : class
    where TKind : IWeakCollectionKind
{
    // The box every presence-only entry shares (WeakRegistry): a set pays no allocation per member beyond the table's.
    private static readonly Box s_shared = new(default!);

    // The keys whose factory is running on this thread, to turn a re-entrant GetOrAdd for the same key (which would
    // otherwise recurse until the stack overflows) into a clear exception. Touched only on the miss path.
    [ThreadStatic]
    private static List<(EphemeronTable<TKey, TValue, TKind> Table, TKey Key)>? t_running;

    private readonly ConditionalWeakTable<TKey, Box> _table = new();
    private readonly object _writeLock = new();

    public EphemeronTable(string name, IMeterFactory? meterFactory)
        => Counters = new WeakCollectionCounters<TKind>(CountLive, name, meterFactory);

    public WeakCollectionCounters<TKind> Counters { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_table.TryGetValue(key, out Box? box))
        {
            value = box.Value;
            return true;
        }

        value = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsKey(TKey key) => _table.TryGetValue(key, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg argument)
        => _table.TryGetValue(key, out Box? box) ? box.Value : AddSlow(key, factory, argument);

    /// <summary>Adds or replaces the value.</summary>
    /// <returns><see langword="true"/> if the key was added, <see langword="false"/> if its value was replaced.</returns>
    public bool Set(TKey key, TValue value)
    {
        var box = new Box(value);
        lock (_writeLock)
        {
            if (_table.TryGetValue(key, out _))
            {
                _table.AddOrUpdate(key, box);
                return false;
            }

            _table.Add(key, box);
            // Counted after the entry is visible: see WeakCollectionCounters for why this order.
            Counters.RecordAddition();
            return true;
        }
    }

    /// <summary>Adds <paramref name="key"/> with the shared default value, unless it is present.</summary>
    public bool TryAddPresence(TKey key)
    {
        lock (_writeLock)
        {
            if (!_table.TryAdd(key, s_shared))
            {
                return false;
            }

            Counters.RecordAddition();
            return true;
        }
    }

    public bool Remove(TKey key)
    {
        lock (_writeLock)
        {
            if (!_table.TryGetValue(key, out _))
            {
                return false;
            }

            // Counted before the entry disappears: see WeakCollectionCounters for why this order. The removal below
            // cannot fail: writers are serialized by this lock and the caller holds the key alive.
            Counters.RecordRemoval();
            _table.Remove(key);
            return true;
        }
    }

    public void Clear()
    {
        lock (_writeLock)
        {
            // Removing entry by entry (not ConditionalWeakTable.Clear) counts exactly the live ones as removed: a key
            // that dies during the walk is left to be counted as reclaimed. Removing while enumerating is supported.
            foreach (KeyValuePair<TKey, Box> entry in (IEnumerable<KeyValuePair<TKey, Box>>)_table)
            {
                Counters.RecordRemoval();
                _table.Remove(entry.Key);
            }
        }
    }

    /// <summary>Walks the table; O(n). Entries whose key the GC has collected are not seen.</summary>
    public int CountLive()
    {
        int count = 0;
        foreach (KeyValuePair<TKey, Box> _ in (IEnumerable<KeyValuePair<TKey, Box>>)_table)
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// The live entries. The table's enumerator covers the entries present when enumeration starts, skips those
    /// removed or collected since, never throws because of concurrent writes, and holds only the current entry.
    /// While an enumerator is open the table defers reclaiming the slots of removed entries, so enumerators should be
    /// disposed (foreach does; an abandoned one is finalized).
    /// </summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> Entries()
    {
        foreach (KeyValuePair<TKey, Box> entry in (IEnumerable<KeyValuePair<TKey, Box>>)_table)
        {
            yield return new KeyValuePair<TKey, TValue>(entry.Key, entry.Value.Value);
        }
    }

    /// <summary>The live keys (same guarantees as <see cref="Entries"/>).</summary>
    public IEnumerable<TKey> Keys()
    {
        foreach (KeyValuePair<TKey, Box> entry in (IEnumerable<KeyValuePair<TKey, Box>>)_table)
        {
            yield return entry.Key;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TValue AddSlow<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg argument)
    {
        TValue value = RunFactory(key, factory, argument);
        var created = new Box(value);
        lock (_writeLock)
        {
            // Another thread may have added a value while our factory ran outside the lock: the first writer wins,
            // as with ConcurrentDictionary.GetOrAdd, and every caller returns the winner's value (ours is dropped).
            if (_table.TryGetValue(key, out Box? winner))
            {
                return winner.Value;
            }

            _table.Add(key, created);
            Counters.RecordAddition();
            return value;
        }
    }

    private TValue RunFactory<TArg>(TKey key, Func<TKey, TArg, TValue> factory, TArg argument)
    {
        List<(EphemeronTable<TKey, TValue, TKind> Table, TKey Key)> running = t_running ??= [];
        foreach ((EphemeronTable<TKey, TValue, TKind> table, TKey runningKey) in running)
        {
            if (ReferenceEquals(table, this) && ReferenceEquals(runningKey, key))
            {
                ThrowReentrantFactory();
            }
        }

        running.Add((this, key));
        try
        {
            return factory(key, argument);
        }
        finally
        {
            // RemoveAt clears the slot, so the list does not keep the key alive after the factory returns.
            running.RemoveAt(running.Count - 1);
        }
    }

    [DoesNotReturn]
    private static void ThrowReentrantFactory()
        => throw new InvalidOperationException(
            "The value factory called GetOrAdd for the same key on the same instance while it was creating that key's value. A factory must not depend on its own result.");

    private sealed class Box(TValue value)
    {
        public readonly TValue Value = value;
    }
}
