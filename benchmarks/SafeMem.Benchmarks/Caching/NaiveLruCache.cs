using System.Diagnostics.CodeAnalysis;

namespace SafeMem.Benchmarks.Caching;

/// <summary>
/// The hand-rolled LRU a team writes first: one lock around a <see cref="Dictionary{TKey, TValue}"/> and a
/// <see cref="LinkedList{T}"/>, bounded by count. The naive baseline of the throughput and eviction benchmarks.
/// </summary>
internal sealed class NaiveLruCache<TKey, TValue>
    where TKey : notnull
{
    private readonly object _lock = new();
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>> _map;
    private readonly LinkedList<KeyValuePair<TKey, TValue>> _order = new();
    private readonly int _capacity;

    public NaiveLruCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _map = new Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>>(capacity + 1);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out LinkedListNode<KeyValuePair<TKey, TValue>>? node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out LinkedListNode<KeyValuePair<TKey, TValue>>? node))
            {
                _order.Remove(node);
                node.Value = new KeyValuePair<TKey, TValue>(key, value);
                _order.AddFirst(node);
                return;
            }

            if (_map.Count >= _capacity)
            {
                LinkedListNode<KeyValuePair<TKey, TValue>> last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }

            _map[key] = _order.AddFirst(new KeyValuePair<TKey, TValue>(key, value));
        }
    }

    public TValue GetOrAdd(TKey key, Func<TKey, TValue> factory)
    {
        if (TryGet(key, out TValue? value))
        {
            return value;
        }

        value = factory(key);
        Set(key, value);
        return value;
    }
}
