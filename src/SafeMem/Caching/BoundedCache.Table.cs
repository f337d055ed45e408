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
/// was up, or whose array was replaced meanwhile, looks again under the lock. A hit is always right: whatever chain a reader walks, a
/// node it finds with the key is the key's entry.
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
    private int _tableCount;

    // True while the table grows (chains are being relinked). Read only by readers that missed.
    private bool _growing;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int HashOf(TKey key)
        => typeof(TKey).IsValueType && _keyComparer is null
            ? EqualityComparer<TKey>.Default.GetHashCode(key!)
            : _keyComparer!.GetHashCode(key!);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool KeyEquals(TKey a, TKey b)
        => typeof(TKey).IsValueType && _keyComparer is null
            ? EqualityComparer<TKey>.Default.Equals(a, b)
            : _keyComparer!.Equals(a, b);

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
        CacheNode<TKey, TValue>? node;
        int hash;
        if (typeof(TKey).IsValueType && _keyComparer is null)
        {
            // Devirtualized and inlined for value-type keys: the common case gets a loop with no comparer in it.
            hash = EqualityComparer<TKey>.Default.GetHashCode(key!);
            for (node = Volatile.Read(ref Bucket(buckets, hash)); node is not null; node = Volatile.Read(ref node.HashNext))
            {
                if (node.Hash == hash && EqualityComparer<TKey>.Default.Equals(node.Key, key))
                {
                    return node;
                }
            }
        }
        else
        {
            IEqualityComparer<TKey> comparer = _keyComparer!;
            hash = comparer.GetHashCode(key!);
            for (node = Volatile.Read(ref Bucket(buckets, hash)); node is not null; node = Volatile.Read(ref node.HashNext))
            {
                if (node.Hash == hash && comparer.Equals(node.Key, key))
                {
                    return node;
                }
            }
        }

        // A miss while the table grew may be spurious (the chain was being relinked). The chain loads above are acquire
        // loads, so these two come after them: if the walk saw a relinked node, growth had begun, and it is either still
        // under way or has published a new array.
        return Volatile.Read(ref _growing) || Volatile.Read(ref _buckets) != buckets ? FindAfterGrowth(key, hash) : null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private CacheNode<TKey, TValue>? FindAfterGrowth(TKey key, int hash)
    {
        lock (_lock)
        {
            return FindLocked(key, hash);
        }
    }

    private CacheNode<TKey, TValue>? FindLocked(TKey key, int hash)
    {
        for (CacheNode<TKey, TValue>? node = Bucket(_buckets, hash); node is not null; node = node.HashNext)
        {
            if (node.Hash == hash && KeyEquals(node.Key, key))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>Makes <paramref name="node"/> reachable by its key (which no node in the table holds). Under the lock.</summary>
    private void InsertLocked(CacheNode<TKey, TValue> node)
    {
        if (_tableCount >= _buckets.Length)
        {
            GrowLocked();
        }

        ref CacheNode<TKey, TValue>? bucket = ref Bucket(_buckets, node.Hash);
        node.HashNext = bucket;

        // Release: a reader that reaches the node sees its key, value and link.
        Volatile.Write(ref bucket, node);
        _tableCount++;
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
        _tableCount--;
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
        _tableCount = 0;
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

        return count != _tableCount ? $"table holds {count} nodes, its count is {_tableCount}"
            : count != _recency.Count ? $"table holds {count} nodes, the recency order {_recency.Count}"
            : null;
    }
}
