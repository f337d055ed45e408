namespace SafeMem.Caching;

/// <summary>
/// The entries that can expire after access or by their own expiry, ordered by their deadlines: a 4-ary min-heap whose
/// keys are brought up to date lazily, so a hit only stores its time in the node and never touches this structure.
/// </summary>
/// <remarks>
/// <para>
/// A write purges expired entries from here (<see cref="NextExpired"/>) before it evicts, so no write evicts a live entry
/// while an expired one is still held, whatever order the eviction policy keeps: TinyLfu's segments are not in order of
/// use (demotions, window growth, hits drained later), and per-entry sliding times to live follow no order at all.
/// </para>
/// <para>
/// Each position carries the deadline its node had when it was last placed (its key). A node's deadline only moves later
/// (a hit moves its last access forward; its write deadline is fixed), so a key is never later than its node's deadline,
/// and no node whose root key is still ahead of now has expired. <see cref="NextExpired"/> looks at the root while its key
/// is due: an expired root is returned for removal, a root read since it was keyed is re-keyed (sifted down) and the
/// next one looked at. Each re-key stands for at least one hit since that node was placed, so a purge costs O(log n) per
/// entry it removes plus per such hit, never a scan. (Readers store last access times without the lock; a reader racing
/// another may store an older time, which moves that entry's expiry by the difference, as documented on the node.)
/// </para>
/// <para>Not thread-safe: every member runs under the cache's policy lock. A removed node's slot is cleared at once.</para>
/// </remarks>
internal sealed class ExpiryHeap<TKey, TValue>
{
    private const int InitialCapacity = 16;

    private long[] _keys = new long[InitialCapacity];
    private TimedCacheNode<TKey, TValue>?[] _nodes = new TimedCacheNode<TKey, TValue>?[InitialCapacity];
    private int _count;

    /// <summary>Gets the number of entries held.</summary>
    public int Count => _count;

    /// <summary>Tells whether <paramref name="node"/> belongs here: it can expire after access, or has its own expiry.</summary>
    public static bool Tracks(TimedCacheNode<TKey, TValue> node)
        => node.AccessTimeToLive != TimedCacheNode<TKey, TValue>.NoLimit || node.HasOwnExpiry;

    /// <summary>Adds <paramref name="node"/> (not held here), keyed by its current deadline.</summary>
    public void Add(TimedCacheNode<TKey, TValue> node)
    {
        if (_count == _nodes.Length)
        {
            Array.Resize(ref _keys, _count * 2);
            Array.Resize(ref _nodes, _count * 2);
        }

        SiftUp(_count++, node.Deadline(), node);
    }

    /// <summary>Removes <paramref name="node"/>, if it is held here.</summary>
    public void Remove(TimedCacheNode<TKey, TValue> node)
    {
        int position = node.ExpiryPosition;
        if (position < 0)
        {
            return;
        }

        node.ExpiryPosition = -1;
        int last = --_count;
        TimedCacheNode<TKey, TValue> moved = _nodes[last]!;
        long key = _keys[last];
        _nodes[last] = null;
        if (position == last)
        {
            return;
        }

        if (position > 0 && key < _keys[(position - 1) >> 2])
        {
            SiftUp(position, key, moved);
        }
        else
        {
            SiftDown(position, key, moved);
        }
    }

    /// <summary>Returns an entry expired at <paramref name="now"/> (the caller removes it before asking again), or null when none is.</summary>
    public TimedCacheNode<TKey, TValue>? NextExpired(long now)
    {
        while (_count > 0 && _keys[0] <= now)
        {
            TimedCacheNode<TKey, TValue> root = _nodes[0]!;
            long deadline = root.Deadline();
            if (deadline <= now)
            {
                return root;
            }

            // Read since it was keyed: its deadline moved; place it again and look at the new root.
            SiftDown(0, deadline, root);
        }

        return null;
    }

    /// <summary>Forgets every entry (the cache cleared or disposed); each node is marked as not held.</summary>
    public void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            _nodes[i]!.ExpiryPosition = -1;
        }

        _keys = new long[InitialCapacity];
        _nodes = new TimedCacheNode<TKey, TValue>?[InitialCapacity];
        _count = 0;
    }

    /// <summary>For tests: the first broken heap rule, or null.</summary>
    public string? FindInconsistency()
    {
        for (int position = 0; position < _count; position++)
        {
            TimedCacheNode<TKey, TValue>? node = _nodes[position];
            if (node is null || node.ExpiryPosition != position)
            {
                return $"expiry heap position {position} does not lead back to its node";
            }

            if (position > 0 && _keys[position] < _keys[(position - 1) >> 2])
            {
                return $"expiry heap position {position} is keyed earlier than its parent";
            }
        }

        return null;
    }

    private void SiftUp(int position, long key, TimedCacheNode<TKey, TValue> node)
    {
        while (position > 0)
        {
            int parent = (position - 1) >> 2;
            if (key >= _keys[parent])
            {
                break;
            }

            Place(position, _keys[parent], _nodes[parent]!);
            position = parent;
        }

        Place(position, key, node);
    }

    private void SiftDown(int position, long key, TimedCacheNode<TKey, TValue> node)
    {
        long[] keys = _keys;
        int count = _count;
        while (true)
        {
            int first = (position << 2) + 1;
            if (first >= count)
            {
                break;
            }

            int earliest = first;
            int end = Math.Min(first + 4, count);
            for (int child = first + 1; child < end; child++)
            {
                if (keys[child] < keys[earliest])
                {
                    earliest = child;
                }
            }

            if (keys[earliest] >= key)
            {
                break;
            }

            Place(position, keys[earliest], _nodes[earliest]!);
            position = earliest;
        }

        Place(position, key, node);
    }

    private void Place(int position, long key, TimedCacheNode<TKey, TValue> node)
    {
        _keys[position] = key;
        _nodes[position] = node;
        node.ExpiryPosition = position;
    }
}
