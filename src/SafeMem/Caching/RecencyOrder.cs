using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// Orders one cache's entries by when they were last used, exactly, at the cost of a stamp per hit: a list of entries
/// in write order, and a heap (<see cref="RecencyHeap{TKey, TValue}"/>) of the entries that were read since.
/// </summary>
/// <remarks>
/// <code>
///   write ──► [list: newest write ... oldest write] ──tail read since written?──► [heap keyed by last read]
///                                          │ no                                        │
///                                          └──────────── victim = the older of ────────┘
/// </code>
/// <para>
/// A write puts its node at the front of the list; the list is thus ordered by write stamp. A hit only restamps its
/// node (see <see cref="RecencyClock"/>): the node stays where it is. A node whose stamp is still its write stamp
/// (sequence 0, which no hit stamp has) is "clean". To find the least recently used entry, <see cref="LeastRecent"/>
/// first moves every read-since ("stale") node at the list's tail into the heap, keyed by its stamp, until the tail is
/// clean. The clean tail is older than every list node (list order), and it is older than every heap node when its
/// stamp is older than the heap root's key (a key is never newer than its node's stamp). Otherwise the heap root is
/// brought up to date and compared again. Every step is exact on one thread, and a workload that mostly writes or
/// mostly misses evicts from the list's tail in constant time, never touching the heap.
/// </para>
/// <para>Not thread-safe: every member runs under the cache's policy lock. <see cref="CacheNode{TKey, TValue}.Id"/>
/// says where a node is: -1 not in the cache, -2 in the list, 0 or more its id in the heap.</para>
/// </remarks>
internal sealed class RecencyOrder<TKey, TValue> : EntryOrder<TKey, TValue>
{
    internal const int NotHeld = -1;
    internal const int InList = -2;

    // Sentinel of the circular list: _head.Next is the newest write, _head.Prev the oldest.
    private readonly CacheNode<TKey, TValue> _head = new(default!, default!, 0);
    private readonly RecencyHeap<TKey, TValue> _heap = new();
    private int _listCount;

    public RecencyOrder()
    {
        _head.Next = _head;
        _head.Prev = _head;
    }

    public override int Count => _listCount + _heap.Count;

    /// <summary>Adds a node just written (its stamp is a write stamp) as the newest entry.</summary>
    public void Add(CacheNode<TKey, TValue> node)
    {
        CacheNode<TKey, TValue> first = _head.Next!;
        node.Prev = _head;
        node.Next = first;
        first.Prev = node;
        _head.Next = node;
        _listCount++;
        Volatile.Write(ref node.Id, InList);
    }

    /// <summary>Removes <paramref name="node"/>, which must be held here.</summary>
    public override void Remove(CacheNode<TKey, TValue> node)
    {
        if (node.Id == InList)
        {
            Unlink(node);
            Volatile.Write(ref node.Id, NotHeld);
        }
        else
        {
            _heap.Remove(node);
        }
    }

    /// <summary>Returns the least recently used node, or null when empty.</summary>
    public CacheNode<TKey, TValue>? LeastRecent()
    {
        CacheNode<TKey, TValue> tail;
        long tailStamp;
        while (true)
        {
            tail = _head.Prev!;
            if (tail == _head)
            {
                return _heap.LeastRecent();
            }

            tailStamp = Volatile.Read(ref tail.Stamp);
            if (IsClean(tailStamp))
            {
                break;
            }

            // Read since it was written: its place is in the heap, by the stamp of that read.
            Unlink(tail);
            _heap.Add(tail);
        }

        if (_heap.Count == 0 || RecencyClock.IsOlder(tailStamp, _heap.OldestKey))
        {
            return tail;
        }

        // The heap root may be older than the tail: bring it up to date, then compare again.
        CacheNode<TKey, TValue> root = _heap.LeastRecent()!;
        return RecencyClock.IsOlder(_heap.OldestKey, tailStamp) ? root : tail;
    }

    /// <summary>Every node held, in no particular order (for snapshots, clearing and checks).</summary>
    public override List<CacheNode<TKey, TValue>> ToList()
    {
        var nodes = new List<CacheNode<TKey, TValue>>(Count);
        for (CacheNode<TKey, TValue> node = _head.Next!; node != _head; node = node.Next!)
        {
            nodes.Add(node);
        }

        for (int i = 0; i < _heap.Count; i++)
        {
            nodes.Add(_heap[i]);
        }

        return nodes;
    }

    /// <summary>Forgets every node at once and gives back the memory grown into; each node is marked as not held.</summary>
    public override void Clear()
    {
        for (CacheNode<TKey, TValue> node = _head.Next!; node != _head;)
        {
            CacheNode<TKey, TValue> next = node.Next!;
            node.Prev = null;
            node.Next = null;
            Volatile.Write(ref node.Id, NotHeld);
            node = next;
        }

        _head.Next = _head;
        _head.Prev = _head;
        _listCount = 0;
        _heap.Clear();
    }

    /// <summary>Tells whether <paramref name="node"/> is held here.</summary>
    public override bool Holds(CacheNode<TKey, TValue> node) => node.Id == InList ? node.Next is not null : _heap.Holds(node);

    /// <summary>For tests: the first broken rule, or null.</summary>
    public override string? FindInconsistency()
    {
        int count = 0;
        long newer = 0;
        for (CacheNode<TKey, TValue> node = _head.Next!; node != _head; node = node.Next!)
        {
            if (node.Next!.Prev != node || node.Id != InList)
            {
                return "broken recency list link";
            }

            // Clean list nodes must be in write order (newest first).
            if (IsClean(node.Stamp))
            {
                if (count > 0 && newer != 0 && !RecencyClock.IsOlder(node.Stamp, newer))
                {
                    return "recency list out of write order";
                }

                newer = node.Stamp;
            }

            count++;
        }

        return count != _listCount ? $"recency list holds {count} nodes, its count is {_listCount}" : _heap.FindInconsistency();
    }

    /// <summary>A write stamp has sequence 0, a hit stamp never does (see <see cref="RecencyClock"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsClean(long stamp) => (stamp & RecencyClock.SequenceMask) == 0;

    private void Unlink(CacheNode<TKey, TValue> node)
    {
        node.Prev!.Next = node.Next;
        node.Next!.Prev = node.Prev;
        node.Prev = null;
        node.Next = null;
        _listCount--;
    }
}
