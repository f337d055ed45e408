using System.Numerics;

namespace SafeMem.Tests.Caching;

/// <summary>
/// A plain, single-threaded W-TinyLFU over <see cref="Dictionary{TKey, TValue}"/>, three <see cref="LinkedList{T}"/>
/// segments and a count-min sketch of plain <see cref="int"/> counters: the reference model the TinyLfu policy of
/// <c>BoundedCache</c> is checked against, step by step. It makes the same deterministic choices, written for clarity.
/// </summary>
/// <remarks>
/// The rules it pins down (the cache's documentation states the same):
/// <list type="bullet">
/// <item>Sizes are measured in the bound: weight when a weight bound is set, else entries. The window's target is
/// <c>capacity - (long)((1 - share) * capacity)</c> for a share starting at 0.01; protected's is 80% of the rest.</item>
/// <item>A hit counts a use of the key in the sketch, moves the entry to the newest end of its segment, and promotes a
/// probation entry to protected (unless heavier than protected's target), demoting protected's oldest entries to
/// probation's newest end while protected is over its target.</item>
/// <item>A write replaces (reason Replaced) or rejects (heavier than the weight bound: Rejected, nothing evicted), then
/// purges every expired entry, then enters the window as its newest entry and counts a use; the window's
/// overflow (oldest first, never the new entry) moves to probation's newest end as candidates; while a bound is
/// exceeded, candidates duel victims (probation oldest first, then protected, then the window's older entries).</item>
/// <item>A duel keeps the candidate only if it is estimated more frequent than the victim and, under an exceeded weight
/// bound, than each following probation victim until their weights reach min(excess, candidate weight). With no
/// candidate left, the victim is the least frequent of probation's 16 oldest entries.</item>
/// <item>Every 10 x count bound (or 10 x sketch words under a weight bound only) counted increments halve the sketch;
/// every as many requests (hits plus writes), but at least 2,000, the climber moves the window share. When the window's
/// target grows, main's oldest entries (probation's, then protected's) move to the window's newest end while it is below
/// its target and the next one fits.
/// The sketch starts with one word per entry of the count bound (a power of two, 16 to 4,096 words), else 16.</item>
/// </list>
/// </remarks>
public sealed class ReferenceTinyLfu<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Entry> _map = [];
    private readonly LinkedList<Entry> _window = new();
    private readonly LinkedList<Entry> _probation = new();
    private readonly LinkedList<Entry> _protected = new();
    private readonly int? _maximumCount;
    private readonly long? _maximumWeight;
    private readonly TimeSpan? _expireAfterWrite;
    private readonly TimeSpan? _expireAfterAccess;
    private readonly Func<DateTimeOffset> _now;
    private readonly long _capacity;
    private readonly uint _seed;
    private readonly int? _sampleEntries;

    private int[] _counters;
    private int _words;
    private int _mostEntries;
    private int _sample;
    private double _windowShare = 0.01;
    private double _step = -0.0625;
    private double _previousHitRate;
    private long _sampleHits;
    private long _sampleMisses;
    private long _windowMaximum;
    private long _protectedMaximum;
    private long _tick;

    public ReferenceTinyLfu(
        int seed,
        int? maximumCount,
        long? maximumWeight = null,
        TimeSpan? expireAfterWrite = null,
        TimeSpan? expireAfterAccess = null,
        Func<DateTimeOffset>? now = null)
    {
        _seed = (uint)seed;
        _maximumCount = maximumCount;
        _maximumWeight = maximumWeight;
        _expireAfterWrite = expireAfterWrite;
        _expireAfterAccess = expireAfterAccess;
        _now = now ?? (() => DateTimeOffset.UtcNow);
        _capacity = maximumWeight ?? maximumCount!.Value;
        _sampleEntries = maximumWeight is null ? maximumCount : null;

        // The first table: four words per entry of the count bound up to 16,384 words, then one each (a power of two,
        // 16 to 16,384 words), else 16 words.
        _words = 16;
        while (maximumCount is int count && _words < Math.Min(WordsFor(count), 16_384))
        {
            _words *= 2;
        }

        _counters = new int[_words * 16];
        SetTargets();
    }

    /// <summary>Removed entries, in order, with their reasons (names match <c>RemovalReason</c>).</summary>
    public List<(TKey Key, object Value, string Reason)> Removals { get; } = [];

    public int Count => _map.Count;

    public long Weight { get; private set; }

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public long AdmissionRejections { get; private set; }

    /// <summary>Entries moved from main to the window because its target grew.</summary>
    public long WindowTransfers { get; private set; }

    /// <summary>Keys from most to least recently used (by the last write or hit).</summary>
    public IEnumerable<TKey> KeysByRecency => _map.Values.OrderByDescending(e => e.Tick).Select(e => e.Key);

    private long Used => _maximumWeight is null ? _map.Count : Weight;

    public bool TryGet(TKey key, out object value)
    {
        if (_map.TryGetValue(key, out Entry? entry))
        {
            if (IsExpired(entry))
            {
                Remove(entry, "Expired");
            }
            else
            {
                entry.LastAccess = _now();
                Hits++;
                OnAccess(entry);
                value = entry.Value;
                return true;
            }
        }

        Misses++;
        value = null!;
        return false;
    }

    public void Set(TKey key, object value, long weight = 1)
    {
        if (_map.TryGetValue(key, out Entry? old))
        {
            Remove(old, "Replaced");
        }

        if (weight > _maximumWeight)
        {
            Removals.Add((key, value, "Rejected"));
            return;
        }

        DateTimeOffset now = _now();
        PurgeExpired();

        var entry = new Entry(key, value, weight, now) { LastAccess = now };
        _map.Add(key, entry);
        Weight += weight;
        entry.Tick = ++_tick;
        _mostEntries = Math.Max(_mostEntries, _map.Count);
        while (_words < WordsFor(_map.Count))
        {
            // Doubling keeps every key's counts: its word under the new mask is its old word or that plus the old length.
            _counters = [.. _counters, .. _counters];
            _words *= 2;
        }

        Increment(key);
        _sampleMisses++;
        MoveTo(entry, _window);
        Evict(entry);
        Climb();
    }

    public bool TryRemove(TKey key)
    {
        if (!_map.TryGetValue(key, out Entry? entry))
        {
            return false;
        }

        bool expired = IsExpired(entry);
        Remove(entry, expired ? "Expired" : "Removed");
        return !expired;
    }

    public void Clear()
    {
        foreach (Entry entry in _map.Values.ToList())
        {
            Remove(entry, "Cleared");
        }
    }

    /// <summary>The sketch's estimate for <paramref name="key"/> (the least of its four counters).</summary>
    public int Frequency(TKey key) => Positions(key).Min(p => _counters[p]);

    private void OnAccess(Entry entry)
    {
        Increment(entry.Key);
        _sampleHits++;
        entry.Tick = ++_tick;
        if (entry.Segment == _probation && Measure(entry) <= _protectedMaximum)
        {
            MoveTo(entry, _protected);
            DemoteProtectedOverflow();
        }
        else
        {
            MoveTo(entry, entry.Segment!);
        }
    }

    private void Evict(Entry newest)
    {
        Entry? firstCandidate = null;
        while (SegmentSize(_window) > _windowMaximum && _window.First!.Value != newest)
        {
            Entry moved = _window.First.Value;
            MoveTo(moved, _probation);
            firstCandidate ??= moved;
        }

        LinkedListNode<Entry>? candidate = firstCandidate?.Node;
        bool candidatesFromWindow = false;
        LinkedListNode<Entry>? victim = _probation.First;
        LinkedList<Entry> victimsFrom = _probation;
        while (_map.Count > _maximumCount || Weight > _maximumWeight)
        {
            if (candidate is null && !candidatesFromWindow)
            {
                candidatesFromWindow = true;
                candidate = NotNewest(_window.First, newest);
            }

            if (candidate is null && victim is null)
            {
                if (victimsFrom == _probation)
                {
                    victimsFrom = _protected;
                    victim = _protected.First;
                    continue;
                }

                if (victimsFrom == _protected)
                {
                    victimsFrom = _window;
                    victim = NotNewest(_window.First, newest);
                    continue;
                }

                break;
            }

            if (victim is null)
            {
                EvictAndAdvance(ref candidate, newest);
            }
            else if (candidate is null && victimsFrom == _probation)
            {
                // No candidate left: the least frequent of probation's 16 oldest entries (the oldest among equals).
                LinkedListNode<Entry> coldest = victim;
                LinkedListNode<Entry>? next = NotNewest(victim.Next, newest);
                for (int i = 1; i < 16 && next is not null && Frequency(coldest.Value.Key) > 0; i++, next = NotNewest(next.Next, newest))
                {
                    if (Frequency(next.Value.Key) < Frequency(coldest.Value.Key))
                    {
                        coldest = next;
                    }
                }

                if (coldest == victim)
                {
                    EvictAndAdvance(ref victim, newest);
                }
                else
                {
                    Remove(coldest.Value, "Evicted");
                }
            }
            else if (candidate is null)
            {
                EvictAndAdvance(ref victim, newest);
            }
            else if (candidate == victim)
            {
                candidate = null;
                EvictAndAdvance(ref victim, newest);
            }
            else if (Admit(candidate, victim, newest))
            {
                candidate = NotNewest(candidate.Next, newest);
                EvictAndAdvance(ref victim, newest);
            }
            else
            {
                AdmissionRejections++;
                EvictAndAdvance(ref candidate, newest);
            }
        }
    }

    private bool Admit(LinkedListNode<Entry> candidate, LinkedListNode<Entry> victim, Entry newest)
    {
        int candidateFrequency = Frequency(candidate.Value.Key);
        long needed = _maximumWeight is long max ? Math.Min(Weight - max, candidate.Value.Weight) : 0;
        long freed = 0;
        for (LinkedListNode<Entry>? next = victim; ;)
        {
            // Ahead by more than one: a candidate is counted for its latest use, the victim not yet for its next.
            if (candidateFrequency <= Frequency(next.Value.Key) + 1)
            {
                return false;
            }

            freed += next.Value.Weight;
            next = NotNewest(next.Next, newest);
            if (freed >= needed || next is null || next == candidate)
            {
                return true;
            }
        }
    }

    private void EvictAndAdvance(ref LinkedListNode<Entry>? cursor, Entry newest)
    {
        LinkedListNode<Entry> evicted = cursor!;
        cursor = NotNewest(evicted.Next, newest);
        Remove(evicted.Value, "Evicted");
    }

    private static LinkedListNode<Entry>? NotNewest(LinkedListNode<Entry>? node, Entry newest) => node?.Value == newest ? null : node;

    private void Climb()
    {
        long requests = _sampleHits + _sampleMisses;
        if (requests < Math.Max(SampleSize, 2000))
        {
            return;
        }

        double hitRate = (double)_sampleHits / requests;
        double change = hitRate - _previousHitRate;
        double amount = change >= 0 ? _step : -_step;
        _step = Math.Abs(change) >= 0.05 ? 0.0625 * (amount >= 0 ? 1 : -1) : 0.98 * amount;
        _previousHitRate = hitRate;
        _sampleHits = 0;
        _sampleMisses = 0;
        _windowShare = Math.Clamp(_windowShare + amount, 0.001, 0.8);
        long previousWindow = _windowMaximum;
        SetTargets();
        DemoteProtectedOverflow();

        // A larger window takes main's oldest entries (probation's, then protected's) while it is below its target and the next one fits.
        while (_windowMaximum > previousWindow
            && SegmentSize(_window) < _windowMaximum
            && (_probation.First ?? _protected.First) is { } oldest
            && SegmentSize(_window) + Measure(oldest.Value) <= _windowMaximum)
        {
            MoveTo(oldest.Value, _window);
            WindowTransfers++;
        }
    }

    private void SetTargets()
    {
        _windowMaximum = _capacity - (long)((1 - _windowShare) * _capacity);
        _protectedMaximum = (long)(0.8 * (_capacity - _windowMaximum));
    }

    private void DemoteProtectedOverflow()
    {
        while (SegmentSize(_protected) > _protectedMaximum && _protected.First is { } oldest)
        {
            MoveTo(oldest.Value, _probation);
        }
    }

    /// <summary>Under a weight bound only, 10 per entry of the most entries held, rounded up to a power of two (at least 16).</summary>
    private int SampleSize => 10 * (_sampleEntries ?? (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, _mostEntries)));

    private static long WordsFor(long entries) => Math.Max(entries, Math.Min(entries * 4, 16_384));

    private void Increment(TKey key)
    {
        bool added = false;
        foreach (int position in Positions(key))
        {
            if (_counters[position] < 15)
            {
                _counters[position]++;
                added = true;
            }
        }

        if (added && ++_sample >= SampleSize)
        {
            // A plain loop (not LINQ): the table has 64 counters per entry, and the model halves it often.
            int odd = 0;
            for (int i = 0; i < _counters.Length; i++)
            {
                odd += _counters[i] % 2;
                _counters[i] /= 2;
            }

            _sample = Math.Max(0, (_sample - (odd / 4)) / 2);
        }
    }

    /// <summary>The four counters of a key: word (a + i*b) mod words, nibble (b >> (8 + 4i)) mod 16, for rows i = 0..3.</summary>
    private IEnumerable<int> Positions(TKey key)
    {
        uint a = Scramble((uint)EqualityComparer<TKey>.Default.GetHashCode(key) ^ _seed);
        uint b = Scramble(a + 0x9E3779B9u) | 1;
        for (int i = 0; i < 4; i++)
        {
            int word = (int)((a + ((uint)i * b)) % (uint)_words);
            int nibble = (int)(b >> (8 + (4 * i))) % 16;
            yield return (word * 16) + nibble;
        }
    }

    private static uint Scramble(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    private void PurgeExpired()
    {
        foreach (Entry expired in _map.Values.Where(IsExpired).ToList())
        {
            Remove(expired, "Expired");
        }
    }

    private long Measure(Entry entry) => _maximumWeight is null ? 1 : entry.Weight;

    private long SegmentSize(LinkedList<Entry> segment) => segment.Sum(Measure);

    private void MoveTo(Entry entry, LinkedList<Entry> segment)
    {
        entry.Segment?.Remove(entry.Node!);
        entry.Node = segment.AddLast(entry);
        entry.Segment = segment;
    }

    private bool IsExpired(Entry entry)
    {
        DateTimeOffset now = _now();
        return (_expireAfterWrite is { } write && now >= entry.Written + write)
            || (_expireAfterAccess is { } access && now >= entry.LastAccess + access);
    }

    private void Remove(Entry entry, string reason)
    {
        entry.Segment!.Remove(entry.Node!);
        _map.Remove(entry.Key);
        Weight -= entry.Weight;
        Removals.Add((entry.Key, entry.Value, reason));
    }

    private sealed class Entry(TKey key, object value, long weight, DateTimeOffset written)
    {
        public TKey Key { get; } = key;

        public object Value { get; } = value;

        public long Weight { get; } = weight;

        public DateTimeOffset Written { get; } = written;

        public DateTimeOffset LastAccess { get; set; }

        public long Tick { get; set; }

        public LinkedList<Entry>? Segment { get; set; }

        public LinkedListNode<Entry>? Node { get; set; }
    }
}
