using System.Runtime.CompilerServices;

namespace SafeMem.Caching;

/// <summary>
/// The W-TinyLFU policy's order of entries: an LRU admission window in front of a main region segmented into probation
/// and protected LRUs, a frequency sketch that decides which of a window candidate and a main victim stays, and a hill
/// climber that adapts the window's share to the workload.
/// </summary>
/// <remarks>
/// <code>
///   write ──► window (LRU) ──overflow, oldest first──► probation (LRU) ──hit──► protected (LRU)
///                                  candidate ─┐            ▲  victim = oldest     │ overflow, oldest first
///                                             │            └──────────────────────┘
///             over a bound? duel: the candidate stays only if the sketch says it is used more often than the victim,
///             by more than one count (under a weight bound: than every victim whose weight it needs); the loser is evicted
/// </code>
/// <para>
/// Sizes are in the cache's bound: weight under <c>MaximumWeight</c>, else entries. The window holds about 1% at first;
/// every <see cref="FrequencySketch.SampleSize"/> requests (hits plus writes; at least <see cref="MinimumClimbSample"/>)
/// the climber compares the sample's hit ratio with the previous one and moves the window's share a step (6.25% of the
/// capacity, decaying by 0.98 per sample, restarting after a change of 5 points) in the direction that helped, between
/// 0.1% and 80%. A larger window takes main's oldest entries at once (as Caffeine does); a smaller one gives up its
/// overflow at the next write. Protected holds up to 80% of the main region. Every step is deterministic for a given
/// seed: one thread replaying the same operations gets the same evictions.
/// </para>
/// <para>
/// A write enters the window as its newest entry and is never evicted by its own write (so it is visible right after
/// it), even when it alone overflows the window. Eviction follows Caffeine's design (window overflow moves to
/// probation as candidates; victims are taken from probation's oldest end, then protected, then the window), in code
/// written for this cache. Against hash flooding (keys chosen to share a victim's counters so that it looks hot and
/// nothing new is ever admitted) the sketch mixes a random per-cache seed into every position, so colliding keys cannot
/// be computed in advance (string keys are also hashed with a per-process random seed by .NET). Caffeine's other
/// defence, admitting a warm candidate that lost a duel once in 128 times at random, is not used: it cost 6.5 points
/// of hit ratio on the loop trace (see docs/caching-tinylfu.md) and would make a replay depend on a random sequence.
/// </para>
/// <para>Not thread-safe: every member runs under the cache's policy lock. Hits arrive through
/// <see cref="OnRead"/> when a writer, or a reader whose ring is full, drains the readers' rings (see
/// <see cref="RecencyClock"/>).</para>
/// </remarks>
internal sealed class TinyLfuOrder<TKey, TValue> : EntryOrder<TKey, TValue>, RecencyClock.IReadSink
{
    internal const int InWindow = -3;
    internal const int InProbation = -4;
    internal const int InProtected = -5;

    internal const double InitialWindowShare = 0.01;
    internal const double MinimumWindowShare = 0.001;
    internal const double MaximumWindowShare = 0.8;
    internal const double ProtectedShare = 0.8;
    internal const double ClimbStep = 0.0625;
    internal const double StepDecay = 0.98;
    internal const double RestartThreshold = 0.05;

    /// <summary>
    /// The fewest requests a climber sample holds (its size is otherwise the sketch's aging period). A sample's hit ratio
    /// is a binomial estimate: over 2,000 requests the difference of two samples has a standard deviation of at most
    /// 1.6 points, so noise alone rarely crosses <see cref="RestartThreshold"/>; over the 500 requests a 50-entry cache's
    /// aging period gives, it is 3.2 points, and the climber would chase noise.
    /// </summary>
    internal const int MinimumClimbSample = 2000;

    /// <summary>
    /// How much more frequent than a victim a candidate must be estimated to replace it: by more than 1, not merely more.
    /// </summary>
    /// <remarks>
    /// A candidate is the window's oldest entry, already counted for its latest use; a victim, probation's oldest, is
    /// counted when it is next used. When every key is used about as often (a loop a little larger than the cache) the
    /// candidate is therefore ahead by one, and with an exact count it would always win, evicting what the next round
    /// needs. Only the sketch's collisions hid that, so which keys the seed made collide decided whether the cache held a
    /// stable set: up to 9 points on the loop trace at 500 entries. Keeping the resident on a difference of one is what
    /// lets the wider sketch (<see cref="FrequencySketch.WordsPerEntry"/>) pay: over 24 seeds per row of the hit-rate
    /// study, the rows where some seed fell more than half a point below BitFaster's <c>ConcurrentLfu</c> went from 16 to
    /// 4 (docs/caching-tinylfu.md).
    /// </remarks>
    internal const int AdmissionMargin = 1;

    /// <summary>How many of probation's oldest entries a victim is chosen from when no candidate is left to duel.</summary>
    internal const int VictimSample = 16;

    private readonly Segment _window = new(InWindow);
    private readonly Segment _probation = new(InProbation);
    private readonly Segment _protected = new(InProtected);
    private readonly FrequencySketch _sketch;
    private readonly int? _maximumCount;
    private readonly long? _maximumWeight;
    private readonly long _capacity;
    private readonly bool _byWeight;

    private long _windowMaximum;
    private long _protectedMaximum;
    private double _windowShare = InitialWindowShare;
    private double _step = -ClimbStep;
    private double _previousHitRate;
    private long _sampleHits;
    private long _sampleMisses;
    private long _tick;
    private int _count;
    private long _weight;

    // The write in progress (between BeginWrite and EndWrite): the new node's weight, the next candidate (from
    // probation's newest part, then the window) and the next victim (probation, then protected, then the window).
    private long _pendingWeight;
    private CacheNode<TKey, TValue>? _candidate;
    private CacheNode<TKey, TValue>? _victim;
    private int _victimsFrom;
    private bool _candidatesFromWindow;

    public TinyLfuOrder(int? maximumCount, long? maximumWeight, uint seed)
    {
        _maximumCount = maximumCount;
        _maximumWeight = maximumWeight;
        _byWeight = maximumWeight is not null;
        _capacity = maximumWeight ?? maximumCount ?? throw new ArgumentException("A bound is required.");
        _sketch = new FrequencySketch(seed, maximumWeight is null ? (int)Math.Min(maximumCount!.Value, int.MaxValue / 10) : null, maximumCount);
        SetTargets();
    }

    public override int Count => _count;

    /// <summary>Gets the window's current target size (in the bound's unit).</summary>
    internal long WindowMaximum => _windowMaximum;

    /// <summary>Gets the protected segment's current target size (in the bound's unit).</summary>
    internal long ProtectedMaximum => _protectedMaximum;

    /// <summary>Gets the sketch (for tests).</summary>
    internal FrequencySketch Sketch => _sketch;

    // The node being written is not linked yet (see BeginWrite): it counts as one entry and its weight is set aside.
    private bool OverBounds
        => (_maximumCount is int maxCount && _count >= maxCount) || (_maximumWeight is long maxWeight && _weight > maxWeight - _pendingWeight);

    public override void Remove(CacheNode<TKey, TValue> node)
    {
        SegmentOf(node).Remove(node, Measure(node));
        _count--;
        _weight -= node.Weight;
        Volatile.Write(ref node.Id, RecencyOrder<TKey, TValue>.NotHeld);
    }

    /// <summary>A hit, drained from a reader's ring: counts a use of the key and moves the entry up.</summary>
    public void OnRead(object read)
    {
        CacheNode<TKey, TValue> node = Unsafe.As<CacheNode<TKey, TValue>>(read);
        int id = node.Id;
        if (id is not (InWindow or InProbation or InProtected))
        {
            // Read by one thread while another removed it: a hit on an entry that has left changes nothing.
            return;
        }

        _sketch.Increment(node.Hash);
        _sampleHits++;
        node.Stamp = ++_tick;
        if (id == InWindow)
        {
            _window.MoveToNewest(node);
        }
        else if (id == InProtected)
        {
            _protected.MoveToNewest(node);
        }
        else if (Measure(node) > _protectedMaximum)
        {
            // Too heavy for the protected segment: it stays in probation, as its newest entry.
            _probation.MoveToNewest(node);
        }
        else
        {
            long measure = Measure(node);
            _probation.Remove(node, measure);
            _protected.AddNewest(node, measure);
            DemoteProtectedOverflow();
        }
    }

    /// <summary>
    /// Hits the readers counted but did not record: they count in the climber's hit ratio and in the sketch's aging
    /// period, not in its counters.
    /// </summary>
    /// <remarks>
    /// Aging every 10 uses per entry of real traffic, recorded or not, keeps old popularity from outliving its time when
    /// long runs of hits are sampled: counted in recorded uses only, the period stretched up to 16 times, and on the
    /// sprite trace at 1,000 entries the default mode fell up to 1.38 points below the synchronous one (now at or above it).
    /// </remarks>
    public void OnUnrecordedReads(long count)
    {
        _sampleHits += count;
        _sketch.Advance(count);
    }

    /// <summary>
    /// Starts the write of <paramref name="node"/>: counts a use of its key, then moves the window's overflow (counting
    /// the new entry, oldest first) to probation as candidates. Then call <see cref="NextEviction"/> until it returns
    /// null, then <see cref="EndWrite"/>, which makes the node the window's newest entry.
    /// </summary>
    /// <remarks>
    /// Evicting before the node is linked is the same as linking it first and never choosing it (it would be the
    /// window's newest entry), and keeps every sum below the bound, so weights near <see cref="long.MaxValue"/> cannot
    /// overflow.
    /// </remarks>
    public void BeginWrite(CacheNode<TKey, TValue> node)
    {
        node.Stamp = ++_tick;
        _sketch.EnsureCapacity(_count + 1L);
        _sketch.Increment(node.Hash);
        _sampleMisses++;
        _pendingWeight = node.Weight;
        long measure = Measure(node);
        CacheNode<TKey, TValue>? first = null;
        while (_window.Size > _windowMaximum - measure && _window.Oldest is { } oldest)
        {
            long moved = Measure(oldest);
            _window.Remove(oldest, moved);
            _probation.AddNewest(oldest, moved);
            first ??= oldest;
        }

        _candidate = first;
        _candidatesFromWindow = false;
        _victim = _probation.Oldest;
        _victimsFrom = InProbation;
    }

    /// <summary>
    /// Returns the next entry to evict while a bound is exceeded (the caller removes it before calling again), or null
    /// when both hold. <paramref name="refused"/> tells whether it is a candidate the frequency filter refused.
    /// </summary>
    public CacheNode<TKey, TValue>? NextEviction(out bool refused)
    {
        refused = false;
        while (OverBounds)
        {
            if (_candidate is null && !_candidatesFromWindow)
            {
                // Probation's candidates are used up: the window's older entries are candidates too.
                _candidatesFromWindow = true;
                _candidate = _window.Oldest;
            }

            if (_candidate is null && _victim is null)
            {
                // Probation is used up: take victims from protected, then from the window.
                if (_victimsFrom == InProbation)
                {
                    _victimsFrom = InProtected;
                    _victim = _protected.Oldest;
                    continue;
                }

                if (_victimsFrom == InProtected)
                {
                    _victimsFrom = InWindow;
                    _victim = _window.Oldest;
                    continue;
                }

                // Nothing is left but the new entry, which fits alone (a heavier one was rejected before it got here).
                return null;
            }

            if (_victim is null)
            {
                return Advance(ref _candidate);
            }

            if (_candidate is null)
            {
                return _victimsFrom == InProbation ? LeastFrequentVictim() : Advance(ref _victim);
            }

            if (_candidate == _victim)
            {
                _candidate = null;
                return Advance(ref _victim);
            }

            if (Admit(_candidate, _victim))
            {
                _candidate = Newer(_candidate);
                return Advance(ref _victim);
            }

            refused = true;
            return Advance(ref _candidate);
        }

        return null;
    }

    /// <summary>Ends the write: links <paramref name="node"/> as the window's newest entry, forgets the eviction's cursors and lets the climber adapt the window.</summary>
    public void EndWrite(CacheNode<TKey, TValue> node)
    {
        _candidate = null;
        _victim = null;
        _pendingWeight = 0;
        _count++;
        _weight += node.Weight;
        _window.AddNewest(node, Measure(node));
        Climb();
    }

    public override List<CacheNode<TKey, TValue>> ToList()
    {
        var nodes = new List<CacheNode<TKey, TValue>>(_count);
        foreach (Segment segment in (ReadOnlySpan<Segment>)[_window, _probation, _protected])
        {
            for (CacheNode<TKey, TValue>? node = segment.Oldest; node is not null; node = segment.Newer(node))
            {
                nodes.Add(node);
            }
        }

        return nodes;
    }

    /// <summary>Forgets every entry; the sketch and the climber keep what they learned about the workload.</summary>
    public override void Clear()
    {
        _window.Clear();
        _probation.Clear();
        _protected.Clear();
        _count = 0;
        _weight = 0;
    }

    public override bool Holds(CacheNode<TKey, TValue> node)
        => node.Id is InWindow or InProbation or InProtected && node.Next is not null;

    public override string? FindInconsistency()
    {
        int count = 0;
        long weight = 0;
        foreach (Segment segment in (ReadOnlySpan<Segment>)[_window, _probation, _protected])
        {
            if (segment.FindInconsistency(_byWeight) is { } broken)
            {
                return broken;
            }

            count += segment.Count;
            for (CacheNode<TKey, TValue>? node = segment.Oldest; node is not null; node = segment.Newer(node))
            {
                weight += node.Weight;
            }
        }

        return count != _count ? $"segments hold {count} nodes, the policy counts {_count}"
            : weight != _weight ? $"segments weigh {weight}, the policy counts {_weight}"
            : _candidate is not null || _victim is not null ? "eviction cursors left set"
            : null;
    }

    /// <summary>
    /// No candidate is left (a heavy write, or a window that grew): evict the least frequent of probation's
    /// <see cref="VictimSample"/> oldest entries (the oldest among equals) rather than simply the oldest, so a write
    /// that needs much room takes it from cold entries, not from hot ones that happen to be older.
    /// </summary>
    private CacheNode<TKey, TValue> LeastFrequentVictim()
    {
        CacheNode<TKey, TValue> coldest = _victim!;
        int coldestFrequency = _sketch.Frequency(coldest.Hash);
        CacheNode<TKey, TValue>? next = Newer(coldest);
        for (int i = 1; i < VictimSample && next is not null && coldestFrequency > 0; i++, next = Newer(next))
        {
            int frequency = _sketch.Frequency(next.Hash);
            if (frequency < coldestFrequency)
            {
                coldest = next;
                coldestFrequency = frequency;
            }
        }

        return coldest == _victim ? Advance(ref _victim) : coldest;
    }

    /// <summary>Returns the cursor's node (to be evicted) and moves the cursor to the next newer one first.</summary>
    private static CacheNode<TKey, TValue> Advance(ref CacheNode<TKey, TValue>? cursor)
    {
        CacheNode<TKey, TValue> node = cursor!;
        cursor = Newer(node);
        return node;
    }

    /// <summary>
    /// Decides a duel: true to evict <paramref name="victim"/> and keep <paramref name="candidate"/>. The candidate must
    /// be estimated more frequent than the victim (by more than <see cref="AdmissionMargin"/>) and, while a weight bound is
    /// exceeded, than each following victim until their weights add up to what evicting the candidate would free (capped
    /// at the excess): a heavy candidate is worth as many victims as it weighs, so one large entry cannot flush several
    /// hotter small ones.
    /// </summary>
    private bool Admit(CacheNode<TKey, TValue> candidate, CacheNode<TKey, TValue> victim)
    {
        int candidateFrequency = _sketch.Frequency(candidate.Hash);
        long needed = _maximumWeight is long maxWeight ? Math.Min(_weight - (maxWeight - _pendingWeight), candidate.Weight) : 0;
        long freed = 0;
        for (CacheNode<TKey, TValue>? next = victim; ;)
        {
            if (candidateFrequency <= _sketch.Frequency(next.Hash) + AdmissionMargin)
            {
                return false;
            }

            freed += next.Weight;
            next = Newer(next);
            if (freed >= needed || next is null || next == candidate)
            {
                return true;
            }
        }
    }

    private static CacheNode<TKey, TValue>? Newer(CacheNode<TKey, TValue> node) => node.Next!.Id == RecencyOrder<TKey, TValue>.NotHeld ? null : node.Next;

    private void Climb()
    {
        long requests = _sampleHits + _sampleMisses;
        if (requests < Math.Max(_sketch.SampleSize, MinimumClimbSample))
        {
            return;
        }

        double hitRate = (double)_sampleHits / requests;
        double change = hitRate - _previousHitRate;
        double amount = change >= 0 ? _step : -_step;
        _step = Math.Abs(change) >= RestartThreshold ? ClimbStep * (amount >= 0 ? 1 : -1) : StepDecay * amount;
        _previousHitRate = hitRate;
        _sampleHits = 0;
        _sampleMisses = 0;
        _windowShare = Math.Clamp(_windowShare + amount, MinimumWindowShare, MaximumWindowShare);
        long previousWindow = _windowMaximum;
        SetTargets();

        // A smaller protected target demotes at once; a smaller window gives up its overflow at the next write.
        DemoteProtectedOverflow();
        if (_windowMaximum > previousWindow)
        {
            GrowWindow();
        }
    }

    /// <summary>
    /// The window's target grew: main's oldest entries (probation's, then protected's) move to the window's newest end
    /// while it is below its target and the next one fits. Without this, a full cache's window could only grow by the writes that win a duel, and
    /// the climber would be judging a window size it never got.
    /// </summary>
    private void GrowWindow()
    {
        while (_window.Size < _windowMaximum
            && (_probation.Oldest ?? _protected.Oldest) is { } oldest
            && _window.Size + Measure(oldest) <= _windowMaximum)
        {
            long measure = Measure(oldest);
            SegmentOf(oldest).Remove(oldest, measure);
            _window.AddNewest(oldest, measure);
        }
    }

    private void SetTargets()
    {
        _windowMaximum = _capacity - (long)((1 - _windowShare) * _capacity);
        _protectedMaximum = (long)(ProtectedShare * (_capacity - _windowMaximum));
    }

    private void DemoteProtectedOverflow()
    {
        while (_protected.Size > _protectedMaximum && _protected.Oldest is { } oldest)
        {
            long measure = Measure(oldest);
            _protected.Remove(oldest, measure);
            _probation.AddNewest(oldest, measure);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Measure(CacheNode<TKey, TValue> node) => _byWeight ? node.Weight : 1;

    private Segment SegmentOf(CacheNode<TKey, TValue> node) => node.Id switch
    {
        InWindow => _window,
        InProbation => _probation,
        _ => _protected,
    };

    /// <summary>
    /// One LRU segment: a circular list through the nodes' <c>Prev</c>/<c>Next</c> around a sentinel (whose id is
    /// "not held", which ends a walk), oldest first, with its count and size in the bound's unit.
    /// </summary>
    private sealed class Segment
    {
        private readonly CacheNode<TKey, TValue> _head = new(default!, default!, 0);
        private readonly int _id;

        public Segment(int id)
        {
            _id = id;
            _head.Next = _head;
            _head.Prev = _head;
        }

        public int Count { get; private set; }

        public long Size { get; private set; }

        public CacheNode<TKey, TValue>? Oldest => _head.Next == _head ? null : _head.Next;

        public CacheNode<TKey, TValue>? Newer(CacheNode<TKey, TValue> node) => node.Next == _head ? null : node.Next;

        public void AddNewest(CacheNode<TKey, TValue> node, long measure)
        {
            Link(node);
            Volatile.Write(ref node.Id, _id);
            Count++;
            Size += measure;
        }

        public void Remove(CacheNode<TKey, TValue> node, long measure)
        {
            Unlink(node);
            node.Prev = null;
            node.Next = null;
            Count--;
            Size -= measure;
        }

        public void MoveToNewest(CacheNode<TKey, TValue> node)
        {
            if (_head.Prev != node)
            {
                Unlink(node);
                Link(node);
            }
        }

        public void Clear()
        {
            for (CacheNode<TKey, TValue> node = _head.Next!; node != _head;)
            {
                CacheNode<TKey, TValue> next = node.Next!;
                node.Prev = null;
                node.Next = null;
                Volatile.Write(ref node.Id, RecencyOrder<TKey, TValue>.NotHeld);
                node = next;
            }

            _head.Next = _head;
            _head.Prev = _head;
            Count = 0;
            Size = 0;
        }

        public string? FindInconsistency(bool byWeight)
        {
            int count = 0;
            long size = 0;
            for (CacheNode<TKey, TValue> node = _head.Next!; node != _head; node = node.Next!)
            {
                if (node.Next!.Prev != node || node.Id != _id)
                {
                    return $"broken link or id in segment {_id}";
                }

                count++;
                size += byWeight ? node.Weight : 1;
            }

            return count != Count ? $"segment {_id} holds {count} nodes, its count is {Count}"
                : size != Size ? $"segment {_id} measures {size}, its size is {Size}"
                : null;
        }

        private void Link(CacheNode<TKey, TValue> node)
        {
            CacheNode<TKey, TValue> newest = _head.Prev!;
            node.Prev = newest;
            node.Next = _head;
            newest.Next = node;
            _head.Prev = node;
        }

        private static void Unlink(CacheNode<TKey, TValue> node)
        {
            node.Prev!.Next = node.Next;
            node.Next!.Prev = node.Prev;
        }
    }
}
