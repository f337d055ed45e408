namespace SafeMem.Tests.Caching;

/// <summary>
/// An exact, single-threaded LRU over <see cref="LinkedList{T}"/> + <see cref="Dictionary{TKey, TValue}"/>: the
/// reference model that <c>BoundedCache</c> is checked against (model tests) and measured against (hit-rate study).
/// Obviously correct rather than fast.
/// </summary>
/// <remarks>
/// Semantics it pins down:
/// <list type="bullet">
/// <item>A read of a live entry makes it the most recently used. An expired entry is never returned; it is removed
/// (reason Expired) when a read finds it.</item>
/// <item>A write inserts (or replaces) the entry as the most recently used, then removes every expired entry, then
/// evicts least recently used entries until both bounds hold. The entry just written is never evicted for itself.</item>
/// <item>An entry heavier than the weight bound is not stored (reason Rejected) and evicts nothing; a previous entry
/// under the same key is removed (reason Replaced), so a reader never sees the value the write meant to replace.</item>
/// <item>Expiry: after write, the entry expires at write time + <c>expireAfterWrite</c>; after access, at last read
/// or write + <c>expireAfterAccess</c>; it is expired when now &gt;= that instant.</item>
/// </list>
/// </remarks>
public sealed class ReferenceLru<TKey, TValue>
    where TKey : notnull
{
    private readonly LinkedList<Entry> _order = new();
    private readonly Dictionary<TKey, LinkedListNode<Entry>> _map;
    private readonly int? _maximumCount;
    private readonly long? _maximumWeight;
    private readonly TimeSpan? _expireAfterWrite;
    private readonly TimeSpan? _expireAfterAccess;
    private readonly Func<DateTimeOffset> _now;

    public ReferenceLru(
        int? maximumCount,
        long? maximumWeight = null,
        TimeSpan? expireAfterWrite = null,
        TimeSpan? expireAfterAccess = null,
        Func<DateTimeOffset>? now = null,
        IEqualityComparer<TKey>? comparer = null)
    {
        _maximumCount = maximumCount;
        _maximumWeight = maximumWeight;
        _expireAfterWrite = expireAfterWrite;
        _expireAfterAccess = expireAfterAccess;
        _now = now ?? (() => DateTimeOffset.UtcNow);
        _map = new Dictionary<TKey, LinkedListNode<Entry>>(comparer);
    }

    /// <summary>Removed entries, in order, with their reasons (names match <c>RemovalReason</c>).</summary>
    public List<(TKey Key, TValue Value, string Reason)> Removals { get; } = [];

    public int Count => _map.Count;

    public long Weight { get; private set; }

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    /// <summary>Keys from most to least recently used.</summary>
    public IEnumerable<TKey> KeysByRecency => _order.Select(e => e.Key);

    /// <summary>Every value held by an entry, expired entries not yet removed included (each once per entry).</summary>
    public IEnumerable<TValue> Values => _order.Select(e => e.Value);

    /// <summary>The value stored under <paramref name="key"/>, expired or not, without counting a lookup or changing recency.</summary>
    public bool TryPeek(TKey key, out TValue value)
    {
        bool found = _map.TryGetValue(key, out LinkedListNode<Entry>? node);
        value = found ? node!.Value.Value : default!;
        return found;
    }

    public bool TryGet(TKey key, out TValue value)
    {
        if (_map.TryGetValue(key, out LinkedListNode<Entry>? node))
        {
            if (IsExpired(node.Value))
            {
                Remove(node, "Expired");
            }
            else
            {
                node.Value.LastAccess = _now();
                _order.Remove(node);
                _order.AddFirst(node);
                Hits++;
                value = node.Value.Value;
                return true;
            }
        }

        Misses++;
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value, long weight = 1)
    {
        if (_map.TryGetValue(key, out LinkedListNode<Entry>? existing))
        {
            Remove(existing, "Replaced");
        }

        if (weight > _maximumWeight)
        {
            Removals.Add((key, value, "Rejected"));
            return;
        }

        DateTimeOffset now = _now();
        var node = _order.AddFirst(new Entry(key, value, weight, now) { LastAccess = now });
        _map.Add(key, node);
        Weight += weight;

        foreach (LinkedListNode<Entry> expired in EnumerateNodes().Where(n => IsExpired(n.Value)).ToList())
        {
            Remove(expired, "Expired");
        }

        while (_map.Count > _maximumCount || Weight > _maximumWeight)
        {
            Remove(_order.Last!, "Evicted");
        }
    }

    /// <summary>The hit-rate replay step: a read that, on a miss, writes the key.</summary>
    public bool Access(TKey key, TValue valueOnMiss, long weight = 1)
    {
        if (TryGet(key, out _))
        {
            return true;
        }

        Set(key, valueOnMiss, weight);
        return false;
    }

    public bool TryRemove(TKey key)
    {
        if (!_map.TryGetValue(key, out LinkedListNode<Entry>? node))
        {
            return false;
        }

        bool expired = IsExpired(node.Value);
        Remove(node, expired ? "Expired" : "Removed");
        return !expired;
    }

    public void Clear()
    {
        foreach (LinkedListNode<Entry> node in EnumerateNodes().ToList())
        {
            Remove(node, "Cleared");
        }
    }

    private IEnumerable<LinkedListNode<Entry>> EnumerateNodes()
    {
        for (LinkedListNode<Entry>? node = _order.First; node is not null; node = node.Next)
        {
            yield return node;
        }
    }

    private bool IsExpired(Entry entry)
    {
        DateTimeOffset now = _now();
        return (_expireAfterWrite is { } write && now >= entry.Written + write)
            || (_expireAfterAccess is { } access && now >= entry.LastAccess + access);
    }

    private void Remove(LinkedListNode<Entry> node, string reason)
    {
        _order.Remove(node);
        _map.Remove(node.Value.Key);
        Weight -= node.Value.Weight;
        Removals.Add((node.Value.Key, node.Value.Value, reason));
    }

    private sealed class Entry(TKey key, TValue value, long weight, DateTimeOffset written)
    {
        public TKey Key { get; } = key;

        public TValue Value { get; } = value;

        public long Weight { get; } = weight;

        public DateTimeOffset Written { get; } = written;

        public DateTimeOffset LastAccess { get; set; }
    }
}
