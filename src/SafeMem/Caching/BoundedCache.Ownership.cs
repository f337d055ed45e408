using System.Diagnostics.CodeAnalysis;

namespace SafeMem.Caching;

/// <summary>
/// Who holds a value, for <see cref="BoundedCacheOptions{TKey, TValue}.DisposeRemovedValues"/>: entries and leases are
/// counted per value instance, and the value is disposed when the last of them lets go.
/// </summary>
/// <remarks>
/// <code>
///   value instance ──► ValueHolds { Entries, Leases, Publishing, Disowned }   (only disposable values of an owning cache)
///     write admits an entry ........ Entries++ (and the cache owns it again: Disowned = false)
///     entry leaves .................. Entries--  ─┐
///       (with handlers to run) ...... Publishing++ in the same step, Publishing-- once its handlers have run
///     lease ends .................... Leases--   ─┴─► all 0 and not Disowned: dispose, once, outside the lock
///     hand-over of the last entry ... Disowned = true (TryRemove(key, out value), rejected re-write of that instance)
/// </code>
/// Every count changes under the policy lock, so "nothing holds it any more" is decided once, by one thread. A removal
/// whose <see cref="EntryRemoved"/> handlers have not run yet is a holder like a lease: the handlers run outside the
/// lock, and a lease released (or a load's hold given back) on another thread meanwhile must not dispose the value
/// under them; whichever of the two ends last disposes it, after the handlers. The map lives only in caches that
/// dispose values, and a hit never touches it: only writes, removals, leases and loads do.
/// </remarks>
public sealed partial class BoundedCache<TKey, TValue> : ILeaseOwner<TValue>
{
    // Null unless the cache disposes values. Keyed by instance (reference equality; equality for value types). TValue
    // may be a nullable type, but the cache never stores or loads a null value, so no key is null.
#pragma warning disable CS8714
    private readonly Dictionary<TValue, ValueHolds>? _holds;
#pragma warning restore CS8714

    /// <summary>Looks up <paramref name="key"/> and, on a hit, leases the value so the cache does not dispose it until the lease is disposed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease when found; dispose it when done with the value.</param>
    /// <returns><see langword="true"/> if a live entry was found and leased.</returns>
    /// <remarks>
    /// Counts as a lookup and makes the entry the most recently used, like <see cref="TryGet"/>: a hit when it returns
    /// true, a miss when it returns false (also when it found the entry but a removal on another thread took it first).
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    public bool TryLease(TKey key, [NotNullWhen(true)] out CacheLease<TValue>? lease)
    {
        lease = null;
        if (!TryGetNode(key, out CacheNode<TKey, TValue>? node))
        {
            return false;
        }

        if (!IsOwned(node.Value))
        {
            lease = new CacheLease<TValue>(null, node.Value);
            return true;
        }

        lock (_lock)
        {
            // Removal unlinks under this lock and counts the entry's hold off in the same step: a node still linked
            // here means its entry still holds the value, so the count cannot have reached zero.
            if (!node.IsLinked)
            {
                // Lost the race with a removal: the lookup was counted as a hit when the node was found (the hit's
                // bookkeeping is lock-free and comes first), but the caller sees a miss, so it is counted as one.
                _counters.RetractHit();
                return false;
            }

            AddLeasesLocked(node.Value, 1);
        }

        lease = new CacheLease<TValue>(this, node.Value);
        return true;
    }

    void ILeaseOwner<TValue>.Release(TValue value)
    {
        if (ReleaseLease(value) && value is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>True when the cache counts holders of <paramref name="value"/> (it disposes values, and this one is disposable).</summary>
    private bool IsOwned(TValue value) => _holds is not null && value is IDisposable;

    /// <summary>Ends one lease; true when that was the last holder and the value is the cache's to dispose (the caller does, outside the lock).</summary>
    private bool ReleaseLease(TValue value) => ReleaseLease(value, out _);

    /// <summary>
    /// Ends one lease, as <see cref="ReleaseLease(TValue)"/>; <paramref name="left"/> tells whether the value has left
    /// the cache for good: disposed by this call, or held only by removals still publishing, which dispose it after
    /// their handlers (unless a write stores it again meanwhile).
    /// </summary>
    private bool ReleaseLease(TValue value, out bool left)
    {
        lock (_lock)
        {
            left = false;
            if (_holds is null || !_holds.TryGetValue(value, out ValueHolds? holds))
            {
                return false;
            }

            holds.Leases--;
            left = holds.Entries == 0 && holds.Leases == 0 && !holds.Disowned;
            return ForgetIfUnheldLocked(value, holds);
        }
    }

    /// <summary>An entry holding <paramref name="value"/> is admitted: the cache owns the value from now on.</summary>
    private void HoldEntryLocked(TValue value)
    {
        if (IsOwned(value))
        {
            ValueHolds holds = HoldsLocked(value);
            holds.Entries++;
            holds.Disowned = false;
        }
    }

    /// <summary>
    /// An entry holding <paramref name="value"/> left. Returns true when nothing holds the value any more and it is to be
    /// disposed. With <paramref name="handOver"/>, the last entry hands the value to the caller instead: it is not
    /// disposed, now or when its last lease ends. With <paramref name="publishing"/> (handlers will run for this
    /// removal), the removal holds the value instead of letting go (<paramref name="held"/>): the decision moves to
    /// <see cref="EndPublicationLocked"/>, after the handlers.
    /// </summary>
    private bool ReleaseEntryLocked(TValue value, bool handOver, bool publishing, out bool held)
    {
        held = false;
        if (!IsOwned(value) || !_holds!.TryGetValue(value, out ValueHolds? holds))
        {
            return false;
        }

        holds.Entries--;
        if (handOver && holds.Entries == 0)
        {
            holds.Disowned = true;
        }

        // A value handed over is not the cache's to dispose, so its removal need not hold it; any other is held in the
        // same step as its entry lets go, so no release on another thread can find it unheld before the handlers ran.
        if (publishing && !holds.Disowned)
        {
            holds.Publishing++;
            held = true;
            return false;
        }

        return ForgetIfUnheldLocked(value, holds);
    }

    /// <summary>
    /// A write of <paramref name="value"/> was refused (too heavy, or already expired): the cache owns the value all the
    /// same, since it was given. Returns true when nothing holds it, to be disposed now; otherwise its last holder
    /// disposes it (even if it had been handed over before this write). With <paramref name="publishing"/>, the refusal's
    /// removal holds the value until its handlers have run (<paramref name="held"/>), as in <see cref="ReleaseEntryLocked"/>.
    /// </summary>
    private bool TakeRefusedLocked(TValue value, bool publishing, out bool held)
    {
        held = false;
        if (!IsOwned(value))
        {
            return false;
        }

        bool known = _holds!.TryGetValue(value, out ValueHolds? holds);
        if (publishing)
        {
            holds = HoldsLocked(value);
            holds.Publishing++;
            holds.Disowned = false;
            held = true;
            return false;
        }

        if (known)
        {
            holds!.Disowned = false;
            return false;
        }

        return true;
    }

    /// <summary>
    /// The handlers of a removal that held <paramref name="value"/> have run: its hold ends. True when that was the last
    /// holder and the value is the cache's to dispose (the caller does, outside the lock).
    /// </summary>
    private bool EndPublicationLocked(TValue value)
    {
        ValueHolds holds = _holds![value];
        holds.Publishing--;
        return ForgetIfUnheldLocked(value, holds);
    }

    /// <summary>Adds <paramref name="count"/> leases to <paramref name="value"/> (which need not be stored).</summary>
    private void AddLeasesLocked(TValue value, int count) => HoldsLocked(value).Leases += count;

    /// <summary>True when an entry or a lease holds <paramref name="value"/>.</summary>
    private bool IsHeldLocked(TValue value) => _holds is not null && _holds.ContainsKey(value);

    private ValueHolds HoldsLocked(TValue value)
    {
        if (!_holds!.TryGetValue(value, out ValueHolds? holds))
        {
            holds = new ValueHolds();
            _holds.Add(value, holds);
        }

        return holds;
    }

    private bool ForgetIfUnheldLocked(TValue value, ValueHolds holds)
    {
        if (holds.Entries > 0 || holds.Leases > 0 || holds.Publishing > 0)
        {
            return false;
        }

        _holds!.Remove(value);
        return !holds.Disowned;
    }

    /// <summary>
    /// For tests: the first disagreement between the entries and the holder counts (every owned value's entry count is
    /// the number of entries holding it; no record is left without a holder), or null. Under the lock.
    /// </summary>
    private string? FindHoldsInconsistencyLocked()
    {
        if (_holds is null)
        {
            return null;
        }

#pragma warning disable CS8714 // See _holds: no key is ever null.
        var entries = new Dictionary<TValue, int>(_holds.Comparer);
#pragma warning restore CS8714
        foreach (CacheNode<TKey, TValue> node in _recency.ToList())
        {
            if (IsOwned(node.Value))
            {
                entries[node.Value] = entries.GetValueOrDefault(node.Value) + 1;
            }
        }

        foreach ((TValue value, ValueHolds holds) in _holds)
        {
            if (holds.Entries != entries.GetValueOrDefault(value))
            {
                return $"a value is held by {entries.GetValueOrDefault(value)} entries, its count says {holds.Entries}";
            }

            if ((holds.Entries == 0 && holds.Leases == 0 && holds.Publishing == 0) || holds.Leases < 0 || holds.Publishing < 0)
            {
                return $"a value's holder record is stale (entries {holds.Entries}, leases {holds.Leases}, publishing {holds.Publishing})";
            }
        }

        return entries.Keys.Any(value => !_holds.ContainsKey(value)) ? "a stored value has no holder record" : null;
    }

    /// <summary>
    /// For tests: how many holds other than entries the cache counts, over all values: leases, holds of loads in flight,
    /// and removals whose handlers have not run yet.
    /// </summary>
    internal int CountLeases()
    {
        lock (_lock)
        {
            return _holds?.Values.Sum(static h => h.Leases + h.Publishing) ?? 0;
        }
    }

    /// <summary>Reference equality for reference types (one instance is one value), equality for value types.</summary>
    private static IEqualityComparer<TValue> InstanceComparer()
        => typeof(TValue).IsValueType ? EqualityComparer<TValue>.Default : (IEqualityComparer<TValue>)(object)ReferenceEqualityComparer.Instance;

    private sealed class ValueHolds
    {
        public int Entries;
        public int Leases;

        /// <summary>Removals of entries that held the value whose <see cref="EntryRemoved"/> handlers have not run yet.</summary>
        public int Publishing;

        /// <summary>The last entry was handed to a caller: the value is not the cache's to dispose.</summary>
        public bool Disowned;
    }
}
