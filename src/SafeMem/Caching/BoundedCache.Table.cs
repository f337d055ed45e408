using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SafeMem.Caching;

/// <summary>
/// The key map: a chained hash table whose chains run through the nodes themselves, read without a lock and written
/// only under the policy lock (which every write holds anyway).
/// </summary>
/// <remarks>
/// <code>
///   _buckets ──► [ ] [•] [ ] [•] ...        power-of-two length, index = Fibonacci hash of the key's hash code
///                     │       └─► node ─HashNext─► node ─► null
///                     └─► node ─► null
/// </code>
/// A reader loads the bucket array, walks one chain and compares hash and key: no lock, no interlocked instruction, no
/// allocation, and the node it finds is the entry itself (no second object to load). Writers publish a node with a
/// release store of the link that makes it reachable, after every field is written; an unlinked node keeps its own
/// link, so a reader standing on it walks on to the rest of the chain. Growing relinks every node into a new array,
/// which a reader of the old one could see half done: a flag is up while that runs, and a reader that missed while it
/// was up, or whose array was replaced meanwhile, looks again under the lock. A hit is always right: whatever chain a
/// reader walks, a node it finds with the key is the key's entry.
/// </remarks>
public sealed partial class BoundedCache<TKey, TValue>
{
    private const int InitialBuckets = 16;

    // Knuth's multiplicative constant (2^32 / golden ratio): spreads clustered hash codes (multiples of a power of two,
    // sequential ids) over the top bits, which the index takes.
    private const uint FibonacciMultiplier = 0x9E3779B9u;

    // Null for value-type keys without a comparer, so EqualityComparer<TKey>.Default is called directly and devirtualized.
    private readonly IEqualityComparer<TKey>? _keyComparer;
    private CacheNode<TKey, TValue>?[] _buckets = new CacheNode<TKey, TValue>?[InitialBuckets];

    // True while the table grows (chains are being relinked). Read only by readers that missed.
    private bool _growing;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HashOf(TKey key)
        => typeof(TKey).IsValueType && _keyComparer is null
            ? EqualityComparer<TKey>.Default.GetHashCode(key!)
            : _keyComparer!.GetHashCode(key!);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref CacheNode<TKey, TValue>? Bucket(CacheNode<TKey, TValue>?[] buckets, int hash)
    {
        // The length is a power of two, 2^k: the top k bits of the 32-bit product index it, always in range.
        int shift = BitOperations.LeadingZeroCount((uint)buckets.Length) + 1;
        int index = (int)(((uint)hash * FibonacciMultiplier) >> shift);
        Debug.Assert((uint)index < (uint)buckets.Length);
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(buckets), index);
    }

    /// <summary>Finds the node for <paramref name="key"/> without a lock; null when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CacheNode<TKey, TValue>? Find(TKey key)
    {
        CacheNode<TKey, TValue>?[] buckets = Volatile.Read(ref _buckets);
        int hash = HashOf(key);
        CacheNode<TKey, TValue>? node = FindIn(buckets, key, hash);

        // A miss while the table grew may be spurious (the chain was being relinked). The chain loads are acquire
        // loads, so these two come after them: if the walk saw a relinked node, growth had begun, and it is either still
        // under way or has published a new array.
        return node is not null || (!Volatile.Read(ref _growing) && Volatile.Read(ref _buckets) == buckets)
            ? node
            : FindAfterGrowth(key, hash);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private CacheNode<TKey, TValue>? FindAfterGrowth(TKey key, int hash)
    {
        lock (_lock)
        {
            return FindLocked(key, hash);
        }
    }

    private CacheNode<TKey, TValue>? FindLocked(TKey key, int hash) => FindIn(_buckets, key, hash);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CacheNode<TKey, TValue>? FindIn(CacheNode<TKey, TValue>?[] buckets, TKey key, int hash)
    {
        CacheNode<TKey, TValue>? node = Volatile.Read(ref Bucket(buckets, hash));
        if (typeof(TKey).IsValueType && _keyComparer is null)
        {
            // A loop of its own with the comparer devirtualized and inlined: testing for a comparer on every node costs
            // about 0.5 ns per hit.
            while (node is not null && (node.Hash != hash || !EqualityComparer<TKey>.Default.Equals(node.Key, key)))
            {
                node = Volatile.Read(ref node.HashNext);
            }
        }
        else
        {
            IEqualityComparer<TKey> comparer = _keyComparer!;
            while (node is not null && (node.Hash != hash || !comparer.Equals(node.Key, key)))
            {
                node = Volatile.Read(ref node.HashNext);
            }
        }

        return node;
    }

    /// <summary>Makes <paramref name="node"/> reachable by its key (which no node in the table holds). Under the lock.</summary>
    private void InsertLocked(CacheNode<TKey, TValue> node)
    {
        // Load factor at most 1. (An insert never runs while a replaced node is out of the count but still in the table.)
        if (_counters.EntryCount >= _buckets.Length)
        {
            GrowLocked();
        }

        ref CacheNode<TKey, TValue>? bucket = ref Bucket(_buckets, node.Hash);
        node.HashNext = bucket;

        // Release: a reader that reaches the node sees its key, value and link.
        Volatile.Write(ref bucket, node);
    }

    /// <summary>
    /// Puts <paramref name="node"/> where <paramref name="old"/> (same key) is, in one store, so a concurrent reader
    /// finds the old entry or the new one, never neither. Under the lock.
    /// </summary>
    private void ReplaceLocked(CacheNode<TKey, TValue> old, CacheNode<TKey, TValue> node)
    {
        ref CacheNode<TKey, TValue>? link = ref LinkTo(old);
        node.HashNext = old.HashNext;
        Volatile.Write(ref link, node);
    }

    /// <summary>Makes <paramref name="node"/> unreachable by its key. Its own link is kept for readers standing on it. Under the lock.</summary>
    private void UnlinkLocked(CacheNode<TKey, TValue> node)
    {
        ref CacheNode<TKey, TValue>? link = ref LinkTo(node);
        Volatile.Write(ref link, node.HashNext);
    }

    private ref CacheNode<TKey, TValue>? LinkTo(CacheNode<TKey, TValue> node)
    {
        ref CacheNode<TKey, TValue>? link = ref Bucket(_buckets, node.Hash);
        while (link != node)
        {
            Debug.Assert(link is not null, "The node is not in the table.");
            link = ref link!.HashNext;
        }

        return ref link;
    }

    private void GrowLocked()
    {
        CacheNode<TKey, TValue>?[] old = _buckets;
        var grown = new CacheNode<TKey, TValue>?[checked(old.Length * 2)];

        // Set before any chain changes, with a full fence so no relinking store can be seen before it, and cleared only
        // after the new array is published.
        Volatile.Write(ref _growing, true);
        Interlocked.MemoryBarrier();
        foreach (CacheNode<TKey, TValue>? head in old)
        {
            // A reader of the old array may follow a relinked node into a chain of the new one: every node is relinked
            // once and only onto nodes already moved, so its walk still ends; a miss then sends it to the lock.
            for (CacheNode<TKey, TValue>? node = head; node is not null;)
            {
                CacheNode<TKey, TValue>? next = node.HashNext;
                ref CacheNode<TKey, TValue>? bucket = ref Bucket(grown, node.Hash);
                node.HashNext = bucket;
                bucket = node;
                node = next;
            }
        }

        Volatile.Write(ref _buckets, grown);
        Volatile.Write(ref _growing, false);
    }

    /// <summary>Starts over with a small, empty table (disposal, or once Clear emptied it). Under the lock.</summary>
    private void ClearTableLocked()
    {
        Volatile.Write(ref _buckets, new CacheNode<TKey, TValue>?[InitialBuckets]);
    }

    /// <summary>For tests: the first disagreement between the table and the heap, or null.</summary>
    private string? FindTableInconsistencyLocked()
    {
        int count = 0;
        foreach (CacheNode<TKey, TValue>? head in _buckets)
        {
            for (CacheNode<TKey, TValue>? node = head; node is not null; node = node.HashNext)
            {
                count++;
                if (!_recency.Holds(node))
                {
                    return $"key {node.Key} is in the table but not in the recency order";
                }

                if (FindLocked(node.Key, node.Hash) != node)
                {
                    return $"key {node.Key} is in the table twice, or in the wrong bucket";
                }
            }
        }

        return count != _recency.Count ? $"table holds {count} nodes, the recency order {_recency.Count}" : null;
    }
}
