using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// The entries of one cache ordered by when they were last used: a 4-ary min-heap on recency stamps whose keys are
/// brought up to date lazily, so a hit only stores a stamp in its node and never touches this structure.
/// </summary>
/// <remarks>
/// <para>
/// Each heap position carries the stamp its node had when it was last placed (its key). A node's stamp only grows (on
/// one thread; see <see cref="RecencyClock"/>), so a key is never newer than its node. The least recently used entry
/// is therefore the root once the root's key equals its node's stamp: every other node's stamp is at least its key,
/// which is at least the root's. <see cref="LeastRecent"/> brings the root up to date until that holds, sifting each
/// stale root down; each hit costs at most one such step, paid by the write that needs a victim. When one call would
/// re-key more roots than rebuilding the whole heap costs, it rebuilds instead, so no write pays more than about two
/// passes over the entries.
/// </para>
/// <para>
/// Layout: every node gets an id (its index in <c>_nodes</c>, recycled through a free list); the heap itself holds
/// only keys and ids, in two arrays of plain numbers, so sifting moves no object reference (no GC write barrier) and
/// compares keys that sit side by side (the four children of a position share a cache line or two). A node knows its
/// id; <c>_positions</c> maps an id to its heap position, for removal of any entry.
/// </para>
/// <code>
///   heap position:   0        1   2   3   4       5 ...
///   _keys          [oldest] [.] [.] [.] [.]     ...     children of p: 4p+1 .. 4p+4
///   _ids           [  7   ] [2] [9] [0] [4]     ...
///   _positions[id] ──► heap position;  _nodes[id] ──► CacheNode (node.Id == id)
/// </code>
/// <para>Not thread-safe: every member runs under the cache's policy lock. A removed node's slot is cleared at once,
/// so the heap never holds a node that left.</para>
/// </remarks>
internal sealed class RecencyHeap<TKey, TValue>
{
    private const int InitialCapacity = 16;

    private long[] _keys = new long[InitialCapacity];
    private int[] _ids = new int[InitialCapacity];
    private int[] _positions = new int[InitialCapacity];
    private CacheNode<TKey, TValue>?[] _nodes = new CacheNode<TKey, TValue>?[InitialCapacity];
    private int _count;

    // Ids below this were handed out at least once; freed ones form a list threaded through _positions.
    private int _issuedIds;
    private int _freeId = -1;

    public int Count => _count;

    /// <summary>Gets the root's key: no node in the heap was used before it (when the heap is not empty).</summary>
    public long OldestKey => _keys[0];

    /// <summary>Gets the node at heap position <paramref name="position"/> (for snapshots and checks; the order is the heap's).</summary>
    public CacheNode<TKey, TValue> this[int position] => _nodes[_ids[position]]!;

    /// <summary>Tells whether <paramref name="node"/> is in this heap.</summary>
    public bool Holds(CacheNode<TKey, TValue> node) => node.Id >= 0 && node.Id < _issuedIds && _nodes[node.Id] == node;

    /// <summary>Adds <paramref name="node"/> (not in any heap), keyed by its current stamp.</summary>
    public void Add(CacheNode<TKey, TValue> node)
    {
        int id = _freeId;
        if (id >= 0)
        {
            _freeId = _positions[id];
        }
        else
        {
            if (_issuedIds == _nodes.Length)
            {
                Grow();
            }

            id = _issuedIds++;
        }

        _nodes[id] = node;
        Volatile.Write(ref node.Id, id);
        SiftUp(_count++, node.Stamp, id);
    }

    /// <summary>Removes <paramref name="node"/>, which must be in this heap.</summary>
    public void Remove(CacheNode<TKey, TValue> node)
    {
        int id = node.Id;
        int position = _positions[id];
        int last = --_count;
        _nodes[id] = null;
        _positions[id] = _freeId;
        _freeId = id;
        Volatile.Write(ref node.Id, -1);
        if (position == last)
        {
            return;
        }

        long key = _keys[last];
        int movedId = _ids[last];
        if (position > 0 && RecencyClock.IsOlder(key, _keys[(position - 1) >> 2]))
        {
            SiftUp(position, key, movedId);
        }
        else
        {
            SiftDown(position, key, movedId);
        }
    }

    /// <summary>Returns the least recently used node (null when empty), bringing stale keys up to date on the way.</summary>
    public CacheNode<TKey, TValue>? LeastRecent()
    {
        int budget = RekeyBudget(_count);
        bool rebuilt = false;
        while (_count > 0)
        {
            int id = _ids[0];
            CacheNode<TKey, TValue> root = _nodes[id]!;

            // Readers store stamps without the lock; a stamp that changes right after this read belongs to a hit
            // concurrent with this eviction, which may fairly be ordered after it.
            long stamp = Volatile.Read(ref root.Stamp);
            if (stamp == _keys[0])
            {
                return root;
            }

            if (--budget < 0)
            {
                if (rebuilt)
                {
                    // Only concurrent hits can make a rebuilt heap stale again: take the root as it stands.
                    return root;
                }

                Rebuild();
                rebuilt = true;
                budget = RekeyBudget(_count);
                continue;
            }

            // Under concurrent hits a node's stamp can also step back (a slow reader storing an older epoch); sifting
            // down is then a no-op and the next round returns this node.
            SiftDown(0, stamp, id);
        }

        return null;
    }

    /// <summary>Forgets every node at once (disposal of the cache); each is marked as having left.</summary>
    public void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            Volatile.Write(ref _nodes[_ids[i]]!.Id, -1);
        }

        _keys = new long[InitialCapacity];
        _ids = new int[InitialCapacity];
        _positions = new int[InitialCapacity];
        _nodes = new CacheNode<TKey, TValue>?[InitialCapacity];
        _count = 0;
        _issuedIds = 0;
        _freeId = -1;
    }

    /// <summary>For tests: the first broken heap rule, or null.</summary>
    public string? FindInconsistency()
    {
        int held = 0;
        for (int position = 0; position < _count; position++)
        {
            int id = _ids[position];
            if (_positions[id] != position || _nodes[id] is not { } node || node.Id != id)
            {
                return $"heap position {position} holds id {id}, which does not lead back to it";
            }

            if (position > 0 && RecencyClock.IsOlder(_keys[position], _keys[(position - 1) >> 2]))
            {
                return $"heap position {position} is keyed older than its parent";
            }
        }

        foreach (CacheNode<TKey, TValue>? node in _nodes)
        {
            held += node is null ? 0 : 1;
        }

        return held != _count ? $"the node table holds {held} nodes, the heap {_count}" : null;
    }

    // Re-keying a root costs a sift (about log4 n levels); rebuilding costs about 2n. Allow what a rebuild would cost.
    private static int RekeyBudget(int count) => Math.Max(16, 4 * count / Math.Max(1, System.Numerics.BitOperations.Log2((uint)count)));

    private void Grow()
    {
        int capacity = checked(_nodes.Length * 2);
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _positions, capacity);
        Array.Resize(ref _nodes, capacity);
    }

    private void Rebuild()
    {
        for (int position = 0; position < _count; position++)
        {
            _keys[position] = Volatile.Read(ref _nodes[_ids[position]]!.Stamp);
        }

        for (int position = (_count - 2) >> 2; position >= 0; position--)
        {
            SiftDown(position, _keys[position], _ids[position]);
        }
    }

    private void SiftUp(int position, long key, int id)
    {
        while (position > 0)
        {
            int parent = (position - 1) >> 2;
            if (!RecencyClock.IsOlder(key, _keys[parent]))
            {
                break;
            }

            Place(position, _keys[parent], _ids[parent]);
            position = parent;
        }

        Place(position, key, id);
    }

    private void SiftDown(int position, long key, int id)
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

            int oldest = first;
            int end = Math.Min(first + 4, count);
            for (int child = first + 1; child < end; child++)
            {
                if (RecencyClock.IsOlder(keys[child], keys[oldest]))
                {
                    oldest = child;
                }
            }

            if (!RecencyClock.IsOlder(keys[oldest], key))
            {
                break;
            }

            Place(position, keys[oldest], _ids[oldest]);
            position = oldest;
        }

        Place(position, key, id);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Place(int position, long key, int id)
    {
        _keys[position] = key;
        _ids[position] = id;
        _positions[id] = position;
    }
}
