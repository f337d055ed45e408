using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// The entries of one cache ordered by when they were last used: a binary min-heap on recency stamps whose keys are
/// brought up to date lazily, so a hit only stores a stamp in its node and never touches this structure.
/// </summary>
/// <remarks>
/// <para>
/// Each heap entry carries the stamp its node had when the entry was last placed (its key). A node's stamp only grows
/// (on one thread; see <see cref="RecencyClock"/>), so a key is never newer than its node. The least recently used
/// entry is therefore the root once the root's key equals its node's stamp: every other node's stamp is at least its
/// key, which is at least the root's. <see cref="LeastRecent"/> brings the root up to date until that holds, sifting
/// each stale root down; each hit costs at most one such step, paid by the write that needs a victim. When a single
/// lookup would re-key more roots than a rebuild of the whole heap costs, it rebuilds instead, so no write pays more
/// than about two passes over the entries.
/// </para>
/// <para>Not thread-safe: every member runs under the cache's policy lock. Vacated slots are cleared, so the heap
/// never holds a node that left.</para>
/// </remarks>
internal sealed class RecencyHeap<TKey, TValue>
{
    private Entry[] _entries = new Entry[16];
    private int _count;

    public int Count => _count;

    /// <summary>Gets the node at <paramref name="index"/> (for snapshots and checks; the order is the heap's).</summary>
    public CacheNode<TKey, TValue> this[int index] => _entries[index].Node;

    /// <summary>Adds <paramref name="node"/>, keyed by its current stamp.</summary>
    public void Add(CacheNode<TKey, TValue> node)
    {
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        SiftUp(_count++, new Entry(node.Stamp, node));
    }

    /// <summary>Removes <paramref name="node"/>, which must be in this heap.</summary>
    public void Remove(CacheNode<TKey, TValue> node)
    {
        int index = node.HeapIndex;
        int last = --_count;
        Entry moved = _entries[last];
        _entries[last] = default;
        Volatile.Write(ref node.HeapIndex, -1);
        if (index == last)
        {
            return;
        }

        if (index > 0 && IsOlder(moved.Key, _entries[(index - 1) >> 1].Key))
        {
            SiftUp(index, moved);
        }
        else
        {
            SiftDown(index, moved);
        }
    }

    /// <summary>Returns the least recently used node (null when empty), bringing stale keys up to date on the way.</summary>
    public CacheNode<TKey, TValue>? LeastRecent()
    {
        int budget = RekeyBudget(_count);
        bool rebuilt = false;
        while (_count > 0)
        {
            Entry root = _entries[0];

            // Readers store stamps without the lock; a stamp that changes right after this read belongs to a hit
            // concurrent with this eviction, which may fairly be ordered after it.
            long stamp = Volatile.Read(ref root.Node.Stamp);
            if (stamp == root.Key)
            {
                return root.Node;
            }

            if (--budget < 0)
            {
                if (rebuilt)
                {
                    // Only concurrent hits can make a rebuilt heap stale again: take the root as it stands.
                    return root.Node;
                }

                Rebuild();
                rebuilt = true;
                budget = RekeyBudget(_count);
                continue;
            }

            // Under concurrent hits a node's stamp can also step back (a slow reader storing an older epoch); sifting
            // down is then a no-op and the next round returns this node.
            SiftDown(0, new Entry(stamp, root.Node));
        }

        return null;
    }

    /// <summary>Forgets every node at once (disposal of the cache); each is marked as having left.</summary>
    public void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            Volatile.Write(ref _entries[i].Node.HeapIndex, -1);
        }

        _count = 0;
        _entries = new Entry[16];
    }

    /// <summary>For tests: the first broken heap rule, or null.</summary>
    public string? FindInconsistency()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].Node.HeapIndex != i)
            {
                return $"heap slot {i} holds a node that thinks it is at {_entries[i].Node.HeapIndex}";
            }

            if (i > 0 && IsOlder(_entries[i].Key, _entries[(i - 1) >> 1].Key))
            {
                return $"heap slot {i} is keyed older than its parent";
            }
        }

        for (int i = _count; i < _entries.Length; i++)
        {
            if (_entries[i].Node is not null)
            {
                return $"vacated heap slot {i} still holds a node";
            }
        }

        return null;
    }

    /// <summary>Stamps are compared by signed difference, so the clock may wrap around.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsOlder(long stamp, long than) => stamp - than < 0;

    // Re-keying a root costs a sift (about log2 n steps); rebuilding costs about 2n. Allow what a rebuild would cost.
    private static int RekeyBudget(int count) => Math.Max(16, 2 * count / Math.Max(1, System.Numerics.BitOperations.Log2((uint)count)));

    private void Rebuild()
    {
        for (int i = 0; i < _count; i++)
        {
            _entries[i].Key = Volatile.Read(ref _entries[i].Node.Stamp);
        }

        for (int i = (_count >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i, _entries[i]);
        }
    }

    private void SiftUp(int index, Entry entry)
    {
        Entry[] entries = _entries;
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            Entry above = entries[parent];
            if (!IsOlder(entry.Key, above.Key))
            {
                break;
            }

            Place(entries, index, above);
            index = parent;
        }

        Place(entries, index, entry);
    }

    private void SiftDown(int index, Entry entry)
    {
        Entry[] entries = _entries;
        int count = _count;
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && IsOlder(entries[child + 1].Key, entries[child].Key))
            {
                child++;
            }

            Entry below = entries[child];
            if (!IsOlder(below.Key, entry.Key))
            {
                break;
            }

            Place(entries, index, below);
            index = child;
        }

        Place(entries, index, entry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Place(Entry[] entries, int index, Entry entry)
    {
        // A plain store: lock-free readers only ask whether the index is negative, and a move never makes it so.
        entries[index] = entry;
        entry.Node.HeapIndex = index;
    }

    private struct Entry(long key, CacheNode<TKey, TValue> node)
    {
        public long Key = key;
        public CacheNode<TKey, TValue> Node = node;
    }
}
