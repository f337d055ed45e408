using System.Runtime.InteropServices;

namespace SafeMem.Diagnostics;

/// <summary>
/// One stripe of a watcher's table: the pending records of the objects whose identity hash falls here, in the order
/// they were watched, and an identity index of every object the stripe knows (pending or retained) so that watching
/// an object twice creates one record.
/// </summary>
/// <remarks>
/// <para>
/// Every member must be called with <see cref="Gate"/> held. Striping by identity hash spreads concurrent
/// <see cref="LeakWatcher.Watch"/> calls over several locks, and within a stripe the ring is in watch order, so its
/// stamps never decrease (a stamp is made monotonic under the lock): the sweep judges records from the head and stops
/// at the first one not yet due, so a full collection with 100,000 records pending and none due costs one look per
/// stripe.
/// </para>
/// <para>
/// <b>Layout.</b> <c>_ring</c> is a circular array of <see cref="WatchRecord"/> values, growing by doubling. The index
/// is open addressing with linear probing over one array of (mixed identity hash, handle) slots, so that a probe reads
/// one cache line (handle 0 = empty slot), deletion by backward shift so that no tombstones accumulate; it is kept at most half full. Identity is
/// confirmed by reading the handle's target, so two objects with equal hashes never merge. A handle is freed only after
/// its index entry is removed, under this lock, so a probe never reads a freed handle.
/// </para>
/// <para>
/// <b>Shrinking</b> waits: both arrays halve only after <see cref="QuietSweeps"/> sweeps in a row found them under a
/// quarter full. A service's pending count rises and falls with every full collection (watched, then judged); shrinking
/// at once would reallocate the arrays on every cycle, which costs more than the memory it gives back.
/// </para>
/// </remarks>
internal sealed class WatchStripe
{
    private const int MinimumCapacity = 16;

    /// <summary>Sweeps in a row that must find an array under a quarter full before it halves.</summary>
    private const int QuietSweeps = 8;

    private WatchRecord[] _ring = new WatchRecord[MinimumCapacity];
    private int _head;
    private int _count;
    private long _lastStamp;

    private Slot[] _slots = new Slot[MinimumCapacity];
    private int _indexCount;
    private int _shift = 32 - 4;
    private int _quietSweeps;

    /// <summary>The lock every member of this stripe needs.</summary>
    public object Gate { get; } = new();

    public bool Disposed { get; private set; }

    public long Watched { get; private set; }

    public long Collected { get; private set; }

    public long Retained { get; private set; }

    public long Duplicates { get; private set; }

    public int PendingCount => _count;

    /// <summary>Gets the number of objects the identity index knows (pending and retained), for tests.</summary>
    internal int IndexCount => _indexCount;

    /// <summary>Tells whether <paramref name="target"/> is pending or retained here.</summary>
    public bool Contains(int hash, object target) => Find(hash, target) >= 0;

    /// <summary>
    /// Adds a pending record for <paramref name="target"/> unless the stripe already knows it (pending or retained):
    /// then counts a duplicate and returns <see langword="false"/>. One probe both looks and finds the free slot.
    /// </summary>
    /// <remarks>The stamp is raised to the last one added, to keep the ring in order.</remarks>
    public bool TryAdd(nint handle, int hash, object target, long stamp, long watchedAt, Type type, string description)
    {
        if ((_indexCount + 1) * 2 > _slots.Length)
        {
            Rehash(_slots.Length * 2);
        }

        int mask = _slots.Length - 1;
        int slot = Home(hash);
        for (; _slots[slot].Handle != 0; slot = (slot + 1) & mask)
        {
            if (_slots[slot].Key == hash && ReferenceEquals(GCHandle.FromIntPtr(_slots[slot].Handle).Target, target))
            {
                Duplicates++;
                return false;
            }
        }

        _slots[slot] = new Slot(hash, handle);
        _indexCount++;
        Append(handle, hash, stamp, watchedAt, type, description);
        return true;
    }

    /// <summary>Adds a pending record whose handle is new to the stripe (no duplicate check): for tests of the index.</summary>
    internal void Add(nint handle, int hash, long stamp, long watchedAt, Type type, string description)
    {
        Insert(hash, handle);
        Append(handle, hash, stamp, watchedAt, type, description);
    }

    private void Append(nint handle, int hash, long stamp, long watchedAt, Type type, string description)
    {
        if (_count == _ring.Length)
        {
            Resize(_ring.Length * 2);
        }

        // A stamp read before another thread's later one may be smaller: raising it only makes this record wait
        // longer (a collection that started in between counts for neither), never judges it early.
        stamp = Math.Max(stamp, _lastStamp);
        _lastStamp = stamp;
        _ring[(_head + _count) & (_ring.Length - 1)] = new WatchRecord
        {
            Handle = handle,
            Hash = hash,
            Stamp = stamp,
            WatchedAt = watchedAt,
            Type = type,
            Description = description,
        };
        _count++;
        Watched++;
    }

    /// <summary>
    /// Judges up to <paramref name="limit"/> records from the head whose stamp is below <paramref name="dueBefore"/>:
    /// a dead object's record is dropped and its handle freed; a live one is counted retained and handed to
    /// <paramref name="retained"/>, keeping its index entry and handle (now owned by the retained record).
    /// </summary>
    /// <returns>Whether due records may remain (the limit was reached).</returns>
    public bool JudgeDue(long dueBefore, int limit, List<WatchRecord> retained)
    {
        int judged = 0;
        while (_count > 0 && _ring[_head].Stamp < dueBefore)
        {
            if (judged++ == limit)
            {
                return true;
            }

            ref WatchRecord record = ref _ring[_head];
            if (GCHandle.FromIntPtr(record.Handle).Target is null)
            {
                RemoveFromIndex(record.Hash, record.Handle);
                GCHandle.FromIntPtr(record.Handle).Free();
                Collected++;
            }
            else
            {
                retained.Add(record);
                Retained++;
            }

            record = default;
            _head = (_head + 1) & (_ring.Length - 1);
            _count--;
        }

        MaybeShrink();
        return false;
    }

    /// <summary>Drops the index entry of a retained object (dead, or not kept); the caller frees the handle after the lock.</summary>
    public void Forget(int hash, nint handle) => RemoveFromIndex(hash, handle);

    /// <summary>Frees every pending handle, forgets every object, and refuses further records.</summary>
    public void Dispose()
    {
        Disposed = true;
        ReleasePending();
        Array.Clear(_slots);
        _indexCount = 0;
    }

    /// <summary>Frees the pending records' handles without locking: for the finalizer of an undisposed watcher's table.</summary>
    public void ReleasePending()
    {
        for (int i = 0; i < _count; i++)
        {
            ref WatchRecord record = ref _ring[(_head + i) & (_ring.Length - 1)];
            if (record.Handle != 0)
            {
                GCHandle.FromIntPtr(record.Handle).Free();
            }

            record = default;
        }

        _count = 0;
        _head = 0;
    }

    /// <summary>
    /// Mixes an identity hash (murmur3's finalizer): the runtime draws identity hashes from a per-thread linear
    /// congruential sequence, whose values are far from independent; mixed, the low bits pick the stripe and the high
    /// bits the home slot.
    /// </summary>
    public static int Mix(int identityHash)
    {
        uint x = (uint)identityHash;
        x ^= x >> 16;
        x *= 0x85EBCA6Bu;
        x ^= x >> 13;
        x *= 0xC2B2AE35u;
        x ^= x >> 16;
        return (int)x;
    }

    private int Home(int hash) => (int)((uint)hash >> _shift);

    private int Find(int hash, object target)
    {
        int mask = _slots.Length - 1;
        for (int i = Home(hash); _slots[i].Handle != 0; i = (i + 1) & mask)
        {
            if (_slots[i].Key == hash && ReferenceEquals(GCHandle.FromIntPtr(_slots[i].Handle).Target, target))
            {
                return i;
            }
        }

        return -1;
    }

    private void Insert(int hash, nint handle)
    {
        if ((_indexCount + 1) * 2 > _slots.Length)
        {
            Rehash(_slots.Length * 2);
        }

        InsertUnchecked(hash, handle);
        _indexCount++;
    }

    private void InsertUnchecked(int hash, nint handle)
    {
        int mask = _slots.Length - 1;
        int i = Home(hash);
        while (_slots[i].Handle != 0)
        {
            i = (i + 1) & mask;
        }

        _slots[i] = new Slot(hash, handle);
    }

    private void RemoveFromIndex(int hash, nint handle)
    {
        int mask = _slots.Length - 1;
        int i = Home(hash);
        while (_slots[i].Handle != handle)
        {
            if (_slots[i].Handle == 0)
            {
                return;
            }

            i = (i + 1) & mask;
        }

        // Backward-shift deletion: pull later entries of the cluster into the hole when their home position allows it,
        // so lookups never need tombstones.
        int hole = i;
        for (int j = (i + 1) & mask; _slots[j].Handle != 0; j = (j + 1) & mask)
        {
            int home = Home(_slots[j].Key);
            bool homeInRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeInRange)
            {
                _slots[hole] = _slots[j];
                hole = j;
            }
        }

        _slots[hole] = default;
        _indexCount--;
    }

    private void MaybeShrink()
    {
        bool ringSparse = _ring.Length > MinimumCapacity && _count < _ring.Length / 4;
        bool indexSparse = _slots.Length > MinimumCapacity && _indexCount * 8 < _slots.Length;
        if (!ringSparse && !indexSparse)
        {
            _quietSweeps = 0;
            return;
        }

        if (++_quietSweeps < QuietSweeps)
        {
            return;
        }

        _quietSweeps = 0;
        if (ringSparse)
        {
            Resize(Math.Max(MinimumCapacity, _ring.Length / 2));
        }

        if (indexSparse)
        {
            Rehash(Math.Max(MinimumCapacity, _slots.Length / 2));
        }
    }

    private void Rehash(int capacity)
    {
        Slot[] slots = _slots;
        _slots = new Slot[capacity];
        _shift = 32 - System.Numerics.BitOperations.Log2((uint)capacity);
        foreach (Slot slot in slots)
        {
            if (slot.Handle != 0)
            {
                InsertUnchecked(slot.Key, slot.Handle);
            }
        }
    }

    private void Resize(int capacity)
    {
        var ring = new WatchRecord[capacity];
        for (int i = 0; i < _count; i++)
        {
            ring[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }

        _ring = ring;
        _head = 0;
    }

    private readonly record struct Slot(int Key, nint Handle);
}
