using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SafeMem.Caching;

/// <summary>
/// A count-min sketch of 4-bit counters that estimates how often each key was used recently: the TinyLfu policy's
/// admission filter. Sixteen counters share a <see langword="long"/>, so the table costs 8 bytes per counter slot.
/// </summary>
/// <remarks>
/// <para>
/// A key (its hash code) is mixed with the sketch's seed into two 32-bit values <c>a</c> and <c>b</c>. It owns four
/// counters, one per row i = 0..3: in table word <c>(a + i * b) &amp; (length - 1)</c>, at nibble
/// <c>(b &gt;&gt; (8 + 4 * i)) &amp; 15</c>. <see cref="Increment"/> adds 1 to each of the four below 15, its
/// estimate (<see cref="Frequency"/>) is the least of the four. Counters saturate at 15.
/// </para>
/// <para>
/// Aging: every increment that changed a counter adds 1 to the sample, and <see cref="Advance"/> adds the uses the
/// cache did not record (hits its readers sampled out), so the period follows real traffic; when the sample reaches
/// <see cref="SampleSize"/> (10 times the count bound; under a weight bound, 10 times the most entries held, rounded
/// up to a power of two, at least 16) every counter is halved, and the sample becomes
/// <c>max(0, (sample - odd counters / 4) / 2)</c>, so old popularity fades and a once-hot key does not stay hot forever.
/// </para>
/// <para>
/// Size: the table keeps <see cref="WordsPerEntry"/> words per entry (64 counters per entry, of which a key uses
/// four) until it reaches <see cref="MaximumInitialLength"/> words (128 KB); beyond that, one word per entry. A
/// count-bound cache starts with the table its bound calls for (rounded up to a power of two, at most 128 KB); otherwise
/// the table starts at 16 words. It doubles (<see cref="EnsureCapacity"/>) when the entries held call for more. Doubling
/// copies the table into both halves: a key's word index under the new mask is its old index or that plus the old
/// length, so every key keeps exactly the counts it had, and no history is lost. Starting at full size matters for
/// accuracy: counts gathered in a small table carry its collisions into the doubled one. Four words per entry, not one:
/// with one, which keys the seed made collide decided up to 6 points of hit ratio on small caches, and over 24 random
/// seeds per row of the hit-rate study some seed fell more than half a point below BitFaster's <c>ConcurrentLfu</c> on
/// 16 of 50 rows; with four (and <see cref="TinyLfuOrder{TKey, TValue}.AdmissionMargin"/>, without which exact counts
/// thrash a loop), on 4 (docs/caching-tinylfu.md). It costs 32 bytes per entry up to 4,096 entries (128 KB at most).
/// </para>
/// <para>
/// The seed makes the counter positions of a key unpredictable from outside the process (a random seed per cache
/// unless a test fixes it), so keys cannot be chosen in advance to collide with a victim's counters. Not thread-safe:
/// used under the cache's policy lock.
/// </para>
/// </remarks>
internal sealed class FrequencySketch
{
    /// <summary>Each counter's top bit cleared, for halving sixteen counters at once.</summary>
    private const long HalfMask = 0x7777_7777_7777_7777L;
    private const long OneMask = 0x1111_1111_1111_1111L;
    /// <summary>The table's words per entry up to <see cref="MaximumInitialLength"/> words: 64 counters for a key's four.</summary>
    internal const int WordsPerEntry = 4;

    /// <summary>The largest table a sketch starts with (16,384 words, 128 KB): beyond it, memory follows the entries held.</summary>
    internal const int MaximumInitialLength = 16_384;

    private const int MinimumLength = 16;
    private const int MaximumLength = 1 << 30;

    private readonly uint _seed;
    private readonly int? _sampleEntries;
    private long[] _table;
    private int _sampleSize;
    private int _sample;
    private long _entriesServed;

    /// <summary>Initializes an empty sketch.</summary>
    /// <param name="seed">Mixed into every key's positions.</param>
    /// <param name="sampleEntries">The entries the cache holds at most (count bound), or null to follow the most entries held.</param>
    /// <param name="expectedEntries">The entries the cache may hold (its count bound), or null if unknown: sizes the first table.</param>
    public FrequencySketch(uint seed, int? sampleEntries = null, int? expectedEntries = null)
    {
        _seed = seed;
        _sampleEntries = sampleEntries;
        _table = new long[InitialLength(expectedEntries)];
        _sampleSize = 10 * (sampleEntries ?? MinimumLength);
    }

    /// <summary>The first table's length (words) for a cache that may hold <paramref name="expectedEntries"/> entries.</summary>
    internal static int InitialLength(int? expectedEntries)
        => expectedEntries is int entries
            ? (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(WordsFor(entries), MinimumLength, MaximumInitialLength))
            : MinimumLength;

    /// <summary>The table words <paramref name="entries"/> entries call for: four each up to 16,384 words, then one each.</summary>
    internal static long WordsFor(long entries) => Math.Max(entries, Math.Min(entries * WordsPerEntry, MaximumInitialLength));

    /// <summary>Gets the number of table words (a power of two).</summary>
    public int Length => _table.Length;

    /// <summary>Gets the number of counting increments after which every counter is halved: 10 per entry the cache can hold.</summary>
    public int SampleSize => _sampleSize;

    /// <summary>Gets the counting increments since the last halving (adjusted as described in the remarks).</summary>
    public int Sample => _sample;

    /// <summary>Doubles the table (keeping every count) until it has the words <paramref name="entries"/> entries call for.</summary>
    /// <remarks>
    /// Called before every write, so a count the table already serves returns at once. Under a weight bound only, the
    /// sample (10 per entry) follows the most entries held, rounded up to a power of two.
    /// </remarks>
    public void EnsureCapacity(long entries)
    {
        if (entries <= _entriesServed)
        {
            return;
        }

        _entriesServed = entries;
        long words = WordsFor(entries);
        while (_table.Length < words && _table.Length < MaximumLength)
        {
            long[] grown = new long[_table.Length * 2];
            _table.CopyTo(grown, 0);
            _table.CopyTo(grown, _table.Length);
            _table = grown;
        }

        if (_sampleEntries is null)
        {
            long basis = (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(entries, MinimumLength));
            _sampleSize = (int)Math.Min(10 * basis, int.MaxValue);
        }
    }

    /// <summary>Returns the estimated recent use count of the key with <paramref name="hash"/>, 0 to 15.</summary>
    public int Frequency(int hash)
    {
        (uint a, uint b) = Mix(hash);
        int mask = _table.Length - 1;
        int frequency = 15;
        for (int i = 0; i < 4; i++)
        {
            int shift = Nibble(b, i) << 2;
            int count = (int)((ulong)_table[(int)(a + ((uint)i * b)) & mask] >> shift) & 15;
            frequency = Math.Min(frequency, count);
        }

        return frequency;
    }

    /// <summary>Counts one use of the key with <paramref name="hash"/>; halves every counter when the sample is full.</summary>
    /// <remarks>
    /// Runs for every hit the policy applies, so it is written out: the four rows unrolled, no bounds checks (every index
    /// is masked into the table), and each counter's increment computed without a branch. Rows are applied in order, as
    /// the plain loop would: two rows may share a word.
    /// </remarks>
    public void Increment(int hash)
    {
        (uint a, uint b) = Mix(hash);
        long[] table = _table;
        ref long first = ref MemoryMarshal.GetArrayDataReference(table);
        uint mask = (uint)table.Length - 1;
        bool added = IncrementAt(ref Unsafe.Add(ref first, (int)(a & mask)), NibbleShift(b, 0))
            | IncrementAt(ref Unsafe.Add(ref first, (int)((a + b) & mask)), NibbleShift(b, 1))
            | IncrementAt(ref Unsafe.Add(ref first, (int)((a + (2 * b)) & mask)), NibbleShift(b, 2))
            | IncrementAt(ref Unsafe.Add(ref first, (int)((a + (3 * b)) & mask)), NibbleShift(b, 3));
        if (added && ++_sample >= _sampleSize)
        {
            Halve();
        }
    }

    /// <summary>
    /// Counts <paramref name="uses"/> that were not recorded toward the aging period, without touching any counter, and
    /// halves every counter each time the sample fills.
    /// </summary>
    public void Advance(long uses)
    {
        _sample = (int)Math.Min(int.MaxValue, _sample + uses);
        while (_sample >= _sampleSize)
        {
            Halve();
        }
    }

    /// <summary>Halves every counter (the periodic aging); see the remarks.</summary>
    public void Halve()
    {
        int odd = 0;
        long[] table = _table;
        for (int i = 0; i < table.Length; i++)
        {
            odd += BitOperations.PopCount((ulong)(table[i] & OneMask));
            table[i] = (long)((ulong)table[i] >> 1) & HalfMask;
        }

        _sample = Math.Max(0, (_sample - (odd >> 2)) >> 1);
    }

    /// <summary>The two mixed values a key's positions derive from (exposed for the tests' plain model).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal (uint A, uint B) Mix(int hash)
    {
        uint a = Scramble((uint)hash ^ _seed);
        uint b = Scramble(a + 0x9E37_79B9u) | 1;
        return (a, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Nibble(uint b, int row) => (int)(b >> (8 + (4 * row))) & 15;

    /// <summary>The bit offset of row <paramref name="row"/>'s counter in its word: <see cref="Nibble"/> times 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NibbleShift(uint b, int row) => (int)(b >> (6 + (4 * row))) & 0x3C;

    /// <summary>Adds 1 to the counter at <paramref name="shift"/> unless it is 15; tells whether it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IncrementAt(ref long word, int shift)
    {
        bool below = ((word >> shift) & 15) != 15;
        word += (long)(below ? 1u : 0u) << shift;
        return below;
    }

    /// <summary>A 32-bit integer finalizer (xor-shift-multiply), so nearby hash codes land far apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Scramble(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB_352Du;
        x ^= x >> 15;
        x *= 0x846C_A68Bu;
        x ^= x >> 16;
        return x;
    }
}
